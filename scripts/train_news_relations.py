"""Build the extractor's learned component from the labelled development articles (issue 15).

    .venv/bin/python scripts/train_news_relations.py          # writes pipeline/extract/data/news_relations_model.json
    .venv/bin/python scripts/train_news_relations.py --cv 5   # prints the 5-fold cross-validated dev scorecard
    .venv/bin/python scripts/train_news_relations.py --check  # exit 1 if the committed model is not what training gives

Only `pipeline/extract/labelled/news_dev.yaml` is read; the held-out articles never are. Training is
deterministic (liblinear, fixed settings), so the same corpus and code give the same file byte for byte.
"""

from __future__ import annotations

import sys

from pipeline.extract import training
from pipeline.extract.learned import MODEL_PATH
from pipeline.extract.news_scoring import NEWS_CORPORA, render, render_confusion


def main(argv: list[str]) -> int:
    if "--cv" in argv:
        k = int(argv[argv.index("--cv") + 1]) if len(argv) > argv.index("--cv") + 1 else 5
        result = training.cross_validate(NEWS_CORPORA["dev"], k)
        print(render(result))
        print()
        print(render_confusion(result))
        return 0
    model = training.train(NEWS_CORPORA["dev"])
    if "--check" in argv:
        same = MODEL_PATH.exists() and MODEL_PATH.read_text(encoding="utf-8") == training.model_text(model)
        print("the committed model is what training gives" if same else f"{MODEL_PATH} is stale: retrain")
        return 0 if same else 1
    path = training.write_model(model)
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
