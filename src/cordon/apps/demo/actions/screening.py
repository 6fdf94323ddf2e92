"""Mass screening in the demo as of today, through screening's actions."""

from __future__ import annotations

import datetime as dt
import sys

from django.utils import timezone

from cordon.apps.screening import actions as screening
from cordon.core.actions import action
from cordon.core.actors import Actor

from .. import selectors
from ..scenario import CITY_CODE, SCREENED, SOURCE, Summary

_ZHANGGUOZHUANG = "/110000/110106/110106010/110106010201/"


@action
def screen_fengtai(
    *, actor: Actor | None, summary: Summary, progress: bool = False, source: str = SOURCE
) -> None:
    """A 10-in-1 round over Fengtai with a sampling site in Beigong, the first residents of Zhangguozhuang bound
    to tubes, the tubes received by the city lab and their results: one pool positive (its persons under
    temporary control at home with their single-tube re-sample tasks); frequency rules for delivery riders
    (daily) and couriers (every 2 days). The samples bound go to ``summary``."""
    if progress:
        print("screening a Fengtai community ...", file=sys.stderr, flush=True)
    fengtai = selectors.jurisdiction("110106")
    now = timezone.now()
    rnd = screening.create_round(
        actor=actor,
        data=screening.RoundData(
            code=f"FT-{timezone.localdate():%Y%m%d}", name="丰台区全员核酸筛查", owner=fengtai,
            starts_at=now - dt.timedelta(hours=2), ends_at=now + dt.timedelta(hours=12), design="10-in-1",
            jurisdictions=[fengtai],
        ),
        source=source,
    )  # fmt: skip
    site = screening.add_site(
        actor=actor,
        round=rnd,
        data=screening.SiteData(
            "BG-01", "北宫镇张郭庄村采样点", selectors.jurisdiction("110106010"), staff=4
        ),
        source=source,
    )
    screening.issue_tubes(actor=actor, site=site, barcodes="FT000001-FT000100", source=source)
    screening.issue_tubes(actor=actor, site=site, barcodes="FS000001-FS000050", size=1, source=source)
    ids = selectors.national_ids_in(_ZHANGGUOZHUANG, SCREENED)
    rows = [screening.BindingIn(f"FT{i // 10 + 1:06d}", nid or "") for i, nid in enumerate(ids)]
    summary.samples = len(screening.bind_samples(actor=actor, site=site, rows=rows, source=source).bound)
    tubes = sorted({r.tube for r in rows})
    lab = screening.create_lab(
        actor=actor, code="LAB-110000", name="合成京城核酸检测基地",
        jurisdiction=selectors.jurisdiction(CITY_CODE), source=source,
    )  # fmt: skip
    screening.receive_tubes(actor=actor, lab=lab, barcodes=tubes, source=source)
    results = [screening.ResultIn(t, "negative") for t in tubes]
    results[len(results) // 3] = screening.ResultIn(
        tubes[len(tubes) // 3], "positive", {"ORF1ab": 31.5, "N": 30.8}
    )
    screening.record_results(actor=actor, rows=results[:-3], lab=lab, source=source)  # the last three pending
    for code, days in (("delivery", 1), ("courier", 2)):
        sector = selectors.sector(code)
        if sector is not None:
            screening.save_rule(actor=actor, sector=sector, every_days=days, source=source)
