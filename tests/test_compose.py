"""Structural checks of the production topology (docker-compose.yml, Dockerfile, .env.example).

No Docker engine is needed: the files are parsed with PyYAML and checked the way
``docker compose config`` would (anchors resolve, known keys, string ports, interpolation),
plus the project's own rules (CeleryExecutor over Redis with Postgres metadata, every secret from
``.env``, authentication on, the image pinned to the Airflow version in requirements.lock).
``tests/test_production_topology.py`` runs the same topology natively.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"
LOCK = REPO / "requirements.lock"

REQUIRED = {
    "postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler",
    "airflow-dag-processor", "airflow-triggerer", "airflow-worker",
}
ONE_SHOT = {"airflow-init"}
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


def test_authentication_stays_on(services: dict) -> None:
    for name, svc in _airflow_services(services).items():
        env = _env(svc)
        manager = env["AIRFLOW__CORE__AUTH_MANAGER"]
        assert manager, name
        if manager.endswith("SimpleAuthManager"):
            assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"].lower() == "false", name
            assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"], name
    # the auth manager class must exist in the installed Airflow (no extra provider needed)
    from importlib import import_module

    module, _, cls = _env(services["airflow-apiserver"])["AIRFLOW__CORE__AUTH_MANAGER"].rpartition(".")
    assert hasattr(import_module(module), cls)
    # the api-server reads the password file airflow-init writes
    path = _env(services["airflow-apiserver"])["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    folder = str(Path(path).parent)
    for name in ("airflow-init", "airflow-apiserver"):
        assert any(v.endswith(":" + folder) for v in services[name]["volumes"]), f"{name} lacks {folder}"


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
    for path in sorted((REPO / "pipeline" / "sources").glob("*.yml")):
        meta = yaml.safe_load(path.read_text())
        sources[meta["id"]] = meta["urls"]
    for name, svc in _airflow_services(services).items():
        env = _env(svc)
        assert env["PIPELINE_HOME"] == "/data", name
        assert env["GX_ANALYTICS_ENABLED"] == "False", name
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/pipeline/dags", name
        assert any(v.startswith("pipeline-data:/data") for v in svc["volumes"]), f"{name} lacks the lake volume"
        for source in env.get("PIPELINE_SOURCES", ",".join(sources)).split(","):
            value = env[f"PIPELINE_INPUT_{source.upper()}"]
            assert value.split(";") == sources[source], f"{name}: {source} input is not the official URL"


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
    """The inline Python that writes the admin password file compiles, and $ is escaped for compose."""
    script = services["airflow-init"]["command"][-1]
    code = re.search(r'python -c "\n(.*?)\n"', script, re.S)
    assert code, "airflow-init writes the password file with python -c"
    compile(code.group(1), "airflow-init", "exec")
    assert "AIRFLOW_ADMIN_PASSWORD" in _env(services["airflow-init"])
    for name, svc in services.items():
        if name != "airflow-init":
            assert "AIRFLOW_ADMIN_PASSWORD" not in _env(svc), f"{name} should not see the admin password"


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
