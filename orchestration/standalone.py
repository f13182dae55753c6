"""``make airflow``: the embedded Airflow with this project's DAGs and connections, for operators in the UI.

Runs ``airflow standalone`` (api-server, scheduler, dag-processor, triggerer; SQLite metadata; LocalExecutor)
with the environment of :func:`orchestration.embedded.airflow_env`: the DAGs of ``dags/``,
``spark_default`` = ``local[2]`` (unless ``AIRFLOW_CONN_SPARK_DEFAULT`` is set), the data root. Authentication
is on: user ``admin``, password generated on the first start into
``<home>/simple_auth_manager_passwords.json.generated`` (also printed by Airflow in its start-up output).

    python -m orchestration.standalone --home data/demo/airflow --data-root data/demo/data \\
        [--port 8080] [--host 127.0.0.1]

Stop it with Ctrl-C (the whole process group: api-server, scheduler and its workers, dag-processor, triggerer).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from jobtrail.tables import Tables
from orchestration.embedded import airflow_env


def _raw_days(data_root: Path) -> list[str]:
    """The ``ds=`` days of the raw events under ``data_root``, sorted."""
    return sorted(p.name.removeprefix("ds=") for p in (data_root / Tables.RAW_EVENTS).glob("ds=*"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("data/demo/airflow"), help="AIRFLOW_HOME (SQLite, logs)")
    parser.add_argument("--data-root", type=Path, default=Path("data/demo/data"), help="JOBTRAIL_DATA_ROOT")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1", help="address the UI listens on (0.0.0.0: every interface)")
    args = parser.parse_args(argv)

    args.home.mkdir(parents=True, exist_ok=True)
    args.data_root.mkdir(parents=True, exist_ok=True)
    env = airflow_env(args.home, args.data_root)
    env["AIRFLOW__API__PORT"] = str(args.port)
    env["AIRFLOW__API__HOST"] = args.host
    env.setdefault("AIRFLOW__CORE__PARALLELISM", "4")  # LocalExecutor workers: Spark local[2] steps on a small machine
    env["AIRFLOW__API__BASE_URL"] = f"http://localhost:{args.port}"
    passwords = args.home.resolve() / "simple_auth_manager_passwords.json.generated"
    print(f"Airflow UI:  http://localhost:{args.port}   (starting: api-server, scheduler, dag-processor, triggerer)")
    print(f"login:       user admin, password in {passwords} (written on the first start, also printed below)")
    print(f"DAGs:        jobtrail_training, jobtrail_daily_embeddings, jobtrail_history_load from "
          f"{env['AIRFLOW__CORE__DAGS_FOLDER']} (paused: Trigger one and fill in the form)")
    days = _raw_days(args.data_root)
    if days:
        print(f"raw events:  {days[0]}..{days[-1]} — trigger the daily DAG with a ds in that range; switched on, it "
              "would first run yesterday, which this data does not have")
    print(f"data root:   {env['JOBTRAIL_DATA_ROOT']}   Spark: spark_default = {env['AIRFLOW_CONN_SPARK_DEFAULT']}")
    print(f"logs:        {env['AIRFLOW__LOGGING__BASE_LOG_FOLDER']}")
    if not (args.data_root / Tables.RAW_EVENTS).exists():
        print(f"note: no {Tables.RAW_EVENTS} under {args.data_root}: run `make demo` first, or point --data-root "
              "at your tables")
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "airflow", "standalone"], env)
    return 0  # pragma: no cover - execve does not return


if __name__ == "__main__":
    sys.exit(main())
