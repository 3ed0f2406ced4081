"""MLflow runs: tracking URI, one run per suite, logging from the client process only.

The default store is a SQLite file next to the run's outputs (``<runs dir>/mlflow.db``) with
artifacts beside it; ``--tracking-uri`` or ``MLFLOW_TRACKING_URI`` point elsewhere (a server,
``http://127.0.0.1:5000``). SQLite takes one writer at a time, so only the process that started
the suite logs; workers never touch MLflow.
"""

from __future__ import annotations

import os
from pathlib import Path


def resolve_tracking_uri(uri: str | None, runs_dir: Path) -> str:
    """``uri``, else ``MLFLOW_TRACKING_URI``, else a SQLite store in ``runs_dir``."""
    if uri:
        return uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    runs_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(runs_dir / 'mlflow.db').resolve()}"


def ensure_experiment(name: str, runs_dir: Path) -> str:
    """Id of experiment ``name``, created with artifacts under ``runs_dir/artifacts`` for a local store."""
    import mlflow

    exp = mlflow.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    artifact_location = None
    if mlflow.get_tracking_uri().startswith("sqlite:"):
        artifact_location = (runs_dir / "artifacts").resolve().as_uri()
    return mlflow.create_experiment(name, artifact_location=artifact_location)


def ui_command(tracking_uri: str) -> str:
    """The command that opens this store in the MLflow UI."""
    if tracking_uri.startswith(("http://", "https://")):
        return f"open {tracking_uri}"
    return f"mlflow ui --backend-store-uri {tracking_uri}"
