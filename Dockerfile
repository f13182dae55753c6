# jobtrail on the official Apache Airflow image: Java 17 for Spark, the project with the exact versions of
# constraints.txt, and the Delta Lake jars resolved at build time (no Spark session reaches Maven at run time).
#
#   docker build -t jobtrail:latest .                                  # Airflow services, Spark, MLflow
#   docker build -t jobtrail-trainer:latest --target trainer .         # + CUDA libraries for GPU training
#
# One image runs every service of docker-compose.yml: the Airflow components (its default entrypoint),
# the Spark master and worker (`spark-class ...`), the MLflow server (`mlflow server ...`) and training
# (`jobtrail train ...`, the trainer target). No secret is baked in: configuration comes from the environment.
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11

FROM apache/airflow:slim-${AIRFLOW_VERSION}-python${PYTHON_VERSION} AS airflow
ARG AIRFLOW_VERSION

USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps curl \
 && ln -s "/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)" /usr/lib/jvm/java-17 \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /opt/jobtrail/data /opt/jobtrail/.cache /opt/airflow/auth /mlflow \
 && chown -R airflow:0 /opt/jobtrail /opt/airflow/auth /mlflow
ENV JAVA_HOME=/usr/lib/jvm/java-17

USER airflow
WORKDIR /opt/jobtrail
COPY --chown=airflow:0 setup.cfg pyproject.toml constraints.txt README.md ./
COPY --chown=airflow:0 jobtrail ./jobtrail
COPY --chown=airflow:0 spark_jobs ./spark_jobs
COPY --chown=airflow:0 tf_models ./tf_models
COPY --chown=airflow:0 feature_store ./feature_store
COPY --chown=airflow:0 orchestration ./orchestration
# Airflow stays at the image's version; everything else at the tested pins (psycopg2 for the Postgres metadata DB).
RUN pip install --no-cache-dir -c constraints.txt "apache-airflow==${AIRFLOW_VERSION}" psycopg2-binary \
        -e ".[spark,train,airflow,read]"

ENV JOBTRAIL_DATA_ROOT=/opt/jobtrail/data \
    JOBTRAIL_CACHE_DIR=/opt/jobtrail/.cache \
    SPARK_CONF_DIR=/opt/jobtrail/.cache/spark-conf \
    PYSPARK_PYTHON=python \
    PYSPARK_DRIVER_PYTHON=python \
    TF_USE_LEGACY_KERAS=1 \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/jobtrail/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False
RUN python -m spark_jobs.jars
COPY --chown=airflow:0 dags ./dags

# GPU training image: TensorFlow's CUDA libraries (the driver comes from the host through the GPU reservation).
FROM airflow AS trainer
RUN pip install --no-cache-dir -c constraints.txt "tensorflow[and-cuda]==2.21.0"
ENTRYPOINT ["jobtrail"]
CMD ["train", "--help"]
