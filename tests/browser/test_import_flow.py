"""An administrator imports a resident file in the browser: the page goes to the import's job, which reports the
bad row; the fixed file goes in, and the job's result links back to the import page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from cordon.apps.people.models import Person
from cordon.engine import identity

pytestmark = pytest.mark.django_db(transaction=True)


def test_import_reports_the_bad_row_then_imports_the_fixed_file(
    live_server: Any,
    job_worker: Any,
    page: Any,
    city: Any,
    make_user: Any,
    screenshot: Any,
    tmp_path: Path,
    login: Any,
) -> None:
    make_user("administrator", city.city, username="admin.user")
    good = [identity.make("110106", dt.date(1990, 1, n), 300 + n) for n in range(1, 4)]
    bad = good[1][:-1] + ("1" if good[1][-1] != "1" else "2")
    rows = [
        "姓名,身份证号,居住楼栋编码",
        f"甲一,{good[0]},B-FT-1",
        f"甲二,{bad},B-FT-1",
        f"甲三,{good[2]},B-FT-1",
    ]
    broken = tmp_path / "residents.csv"
    broken.write_text("\n".join(rows) + "\n", encoding="utf-8")

    base = live_server.url
    login(page, base, "admin.user")
    page.get_by_role("navigation").get_by_role("link", name="导入/导出").click()
    page.click("[data-testid=import-link]")
    page.set_input_files("input[type=file]", str(broken))
    page.get_by_role("button", name="检查并导入").click()
    page.wait_for_url("**/jobs/*/")
    # The job page: its progress while queued or running, or already its outcome when the worker was quicker than
    # the page (a three-row file); tests/browser/test_jobs_flow.py follows a progress bar moving.
    page.locator("[data-testid=job-progress], [data-testid=job-error]").first.wait_for()
    problems = page.locator("[data-testid=job-error]")
    problems.wait_for()
    text = problems.inner_text()
    assert "未导入任何数据" in text and "第 3 行" in text and "身份证号" in text and "校验码错误" in text
    assert page.locator("[data-testid=job-state]").inner_text() == "未成功"
    assert Person.objects.filter(name__startswith="甲").count() == 0
    screenshot(page, "import-problems-zh")

    fixed = tmp_path / "residents-fixed.csv"
    fixed.write_text("\n".join([*rows[:2], f"甲二,{good[1]},B-FT-1", rows[3]]) + "\n", encoding="utf-8")
    page.go_back()
    page.set_input_files("input[type=file]", str(fixed))
    page.get_by_role("button", name="检查并导入").click()
    page.wait_for_url("**/jobs/*/")
    result = page.locator("[data-testid=job-result]")
    result.wait_for()
    assert "已导入 3 条人员" in result.inner_text()
    assert Person.objects.filter(name__startswith="甲").count() == 3
    page.click("[data-testid=job-link]")
    page.wait_for_url("**/data/import/?kind=persons")
    assert page.get_by_role("button", name="检查并导入").is_visible()
