"""Pure business rules: no Qt, no SQLAlchemy.

Glossary (UI term → identifier):
    客户档案 customer file · 客户编号 customer code · 负责人 owner · 等级 grade · 类别 category
    回访 visit · 回访计划 visit plan · 回访记录表 visit record · 回访报告表 visit report
    投诉 complaint · 投诉处理表 complaint form · 台账 ledger · 审阅签字 sign-off · 考核 assessment
    客服专员/业务员 clerk · 主管 supervisor · 经理 manager · 系统管理员 admin
"""
