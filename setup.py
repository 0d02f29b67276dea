"""energy-anomaly: anomalous electricity consumption in smart-meter data, on Spark + Delta Lake."""
from setuptools import find_packages, setup

setup(
    name="energy-anomaly",
    version="0.1.0",
    description="Finds theft, meter faults, outages and unusual behaviour in half-hourly smart-meter data",
    package_dir={"": "lib"},
    packages=find_packages("lib"),
    package_data={"energy_anomaly": ["py.typed"]},
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
    ],
    extras_require={
        "dev": ["pytest>=8", "duckdb>=1.1", "deltalake>=0.20", "matplotlib>=3.8"],
    },
    entry_points={"console_scripts": ["energy-anomaly=energy_anomaly.cli:main"]},
)
