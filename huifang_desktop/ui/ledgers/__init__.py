"""台账 tab: the five ledgers (客户台账, 回访台账, 投诉台账, 售后服务台账, 终端客户信息台帐) and the service record form."""

from huifang_desktop.ui.ledgers.tab import LedgersTab

__all__ = ["LedgersTab"]
