"""energy-anomaly: anomalous electricity consumption in smart-meter data, on Spark + Delta Lake."""

from setuptools import find_packages, setup

setup(
    name="energy-anomaly",
    version="0.1.0",
    description="Finds theft, meter faults, outages and unusual behaviour in half-hourly smart-meter data",
    package_dir={"": "lib"},
    packages=find_packages("lib"),
    package_data={"energy_anomaly": ["py.typed", "bi/*.sql"]},
    python_requires=">=3.10,<3.13",
    install_requires=[
        # pyspark 4.2 is the newest Spark that delta-spark 4.4 supports; the Python package
        # must match the JVM artifact io.delta:delta-spark_4.2_2.13:<same version>.
        "pyspark==4.2.0",
        "delta-spark==4.4.0",
        # PySpark 4.2 warns on pandas 3.
        "pandas>=2.2,<3",
        "pyarrow>=15",
        "numpy>=1.26",
        "scikit-learn>=1.5",
        "tensorflow-cpu>=2.18; platform_machine=='x86_64'",
        "tensorflow>=2.18; platform_machine!='x86_64'",
        "pyyaml>=6",
        "matplotlib>=3.8",  # the evaluation report's plots
        # The forest is stored as a skops file, loaded with a fixed set of trusted types: no pickle
        # from the (writable) warehouse.
        "skops>=0.10",
        # The model lifecycle: tracked runs, the registry, aliases. The skinny client plus
        # SQLAlchemy/Alembic is what the embedded SQLite store needs (the full package would pull
        # a web server and pin pyarrow below the version Spark uses here).
        "mlflow-skinny>=3.5,<4",
        "sqlalchemy>=2",
        "alembic>=1.13",
    ],
    extras_require={
        # Reading the gold tables without Spark. DuckDB's delta extension comes from PyPI as a
        # wheel for one DuckDB version (extensions.duckdb.org may be out of reach): keep them equal.
        "bi": ["duckdb==1.5.5", "duckdb-extension-delta==1.5.5", "deltalake>=0.20"],
        "dev": [
            "pytest>=8",
            "hypothesis>=6.100",
            "ruff>=0.6",
            "duckdb==1.5.5",
            "duckdb-extension-delta==1.5.5",
            "deltalake>=0.20",
        ],
    },
    entry_points={"console_scripts": ["energy-anomaly=energy_anomaly.cli:main"]},
)
