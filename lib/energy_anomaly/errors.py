"""Named errors. The CLI turns each into a one-line reason and a non-zero exit."""


class EnergyAnomalyError(Exception):
    """Base class: an error the user can act on, reported as one line."""


class InputFileError(EnergyAnomalyError):
    """An input file is missing, empty, unreadable or of an unknown layout."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class SchemaMismatchError(EnergyAnomalyError):
    """A DataFrame about to be written does not have the table's declared schema."""


class ConfigError(EnergyAnomalyError):
    """The YAML configuration is missing a key or has a value of the wrong kind."""


class MissingTableError(EnergyAnomalyError):
    """A stage needs a table that an earlier stage has not written yet."""


class StaleTableError(EnergyAnomalyError):
    """A table an older version wrote lacks columns this version reads: the stage that writes it must run again."""


class ConcurrentWriteError(EnergyAnomalyError):
    """Another job kept committing to the same Delta table; retries did not get a commit through."""


class ArtifactError(EnergyAnomalyError):
    """A model artefact is missing, modified since training, or not loadable without running code."""
