"""huifang-desktop (回访): customer return visits and complaints for one office."""

__version__ = "0.1.0"
APP_NAME = "huifang-desktop"
APP_TITLE = "回访管理"
