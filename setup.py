"""energy-anomaly: anomalous electricity consumption in smart-meter data, on Spark + Delta Lake."""

import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

# Repository files the installed package needs, copied into energy_anomaly/_shipped/ at their
# repository paths (config.resolve_path looks there last): the default config and the real LCL
# sample the demo runs on and whose bank holidays the features use. In a source checkout they are
# read in place, so the repository holds one copy.
SHIPPED = ("conf/local.yaml", "data/lcl_sample")


class BuildWithShipped(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "energy_anomaly" / "_shipped"
        for name in SHIPPED:
            source, destination = Path(name), target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, destination, dirs_exist_ok=True)
            else:
                shutil.copy2(source, destination)


setup(
    name="energy-anomaly",
    version="0.1.0",
    description="Finds theft, meter faults, outages and unusual behaviour in half-hourly smart-meter data",
    package_dir={"": "lib"},
    packages=find_packages("lib"),
    package_data={"energy_anomaly": ["py.typed", "bi/*.sql"]},
    python_requires=">=3.10,<3.13",
    install_requires=[
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
        # Scoring runs the networks' forward pass in numpy from the saved weights (HDF5), with
        # numpy's BLAS held to one thread a task.
        "h5py>=3.10",
        "threadpoolctl>=3.1",
        # The model lifecycle: tracked runs, the registry, aliases. The skinny client plus
        # SQLAlchemy/Alembic is what the embedded SQLite store needs (the full package would pull
        # a web server and pin pyarrow below the version Spark uses here).
        "mlflow-skinny>=3.5,<4",
        "sqlalchemy>=2",
        "alembic>=1.13",
    ],
    extras_require={
        # Spark and Delta for running anywhere but on Databricks, whose runtime brings its own
        # (installing these there would shadow the runtime's pyspark). pyspark 4.2 is the newest
        # Spark that delta-spark 4.4 supports; the Python package must match the JVM artifact
        # io.delta:delta-spark_4.2_2.13:<same version>. [connect]: the Spark Connect client.
        "spark": ["pyspark[connect]==4.2.0", "delta-spark==4.4.0"],
        # Reading the gold tables without Spark. DuckDB's delta extension comes from PyPI as a
        # wheel for one DuckDB version (extensions.duckdb.org may be out of reach): keep them equal.
        "bi": ["duckdb==1.5.5", "duckdb-extension-delta==1.5.5", "deltalake>=0.20"],
        "dev": [
            "pyspark[connect]==4.2.0",
            "delta-spark==4.4.0",
            "pytest>=8",
            # Two test processes, each with its one shared Spark session (./bootstrap test).
            "pytest-xdist>=3.5",
            # Checks databricks.yml's jobs against the bundle schema's typed models.
            "databricks-bundles==1.22.1",
            "hypothesis>=6.100",
            "ruff>=0.6",
            "duckdb==1.5.5",
            "duckdb-extension-delta==1.5.5",
            "deltalake>=0.20",
        ],
    },
    entry_points={"console_scripts": ["energy-anomaly=energy_anomaly.cli:main"]},
    cmdclass={"build_py": BuildWithShipped},
)
