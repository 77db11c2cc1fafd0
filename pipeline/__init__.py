"""Sanctions and alignment data pipeline.

Official lists are landed as raw files (bronze), parsed into normalized staged Parquet tables
(silver), modelled in DuckDB SQL into marts (gold) and published atomically. Great Expectations
checks each stage. Airflow runs the steps (``dags/``); every step is a plain function here.
"""

__version__ = "0.1.0"
