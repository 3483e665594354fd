-- A second database on the same server for MLflow's tracking and registry store.
CREATE DATABASE mlflow OWNER board;
