"""``users set-role / set-department / disable / enable`` and ``departments list / add / rename`` (issue 18):
the same services as 工具 → 用户与部门, audited; a refused change exits 1 with a Chinese message."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import MainRunner


def test_users_and_departments_commands(run_main: MainRunner, tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "office")]
    for args in (
        ["users", "add", "boss", "--name", "老板", "--role", "admin", "--password", "secret-123"],
        [
            "users",
            "add",
            "li",
            "--name",
            "李主管",
            "--role",
            "supervisor",
            "--password",
            "secret-123",
            "--department",
            "客服部",
        ],
        ["users", "add", "wang", "--name", "小王", "--role", "clerk", "--password", "secret-123"],
    ):
        code, _out, err = run_main(data + args)
        assert code == 0, err

    code, out, _err = run_main(data + ["users", "set-role", "wang", "supervisor"])
    assert code == 0 and "客服主管" in out
    code, out, _err = run_main(data + ["users", "set-department", "wang", "售后部"])
    assert code == 0 and "售后部" in out
    code, out, _err = run_main(data + ["departments", "add", "工程部", "--head", "li"])
    assert code == 0 and "李主管（li）" in out
    code, out, _err = run_main(data + ["departments", "rename", "客服部", "客户服务部"])
    assert code == 0
    code, out, _err = run_main(data + ["departments", "list"])
    assert "客户服务部" in out and "客服部 " not in out and "工程部" in out and "售后部" in out
    code, out, _err = run_main(data + ["users", "disable", "wang"])
    assert code == 0 and "已停用用户 wang" in out
    code, out, _err = run_main(data + ["users", "list"])
    assert "小王" in out and "（停用）" in out
    code, out, _err = run_main(data + ["users", "enable", "wang"])
    assert code == 0
    code, _out, err = run_main(data + ["users", "disable", "boss"])  # the only administrator
    assert code == 1 and "最后一个启用的系统管理员" in err
    code, _out, err = run_main(data + ["departments", "rename", "无此部门", "x"])
    assert code == 1 and "不存在" in err
