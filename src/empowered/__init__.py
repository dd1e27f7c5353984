"""EmpowerED+: a data warehouse for special educational needs in English schools and trusts."""

__version__ = "0.1.0"
