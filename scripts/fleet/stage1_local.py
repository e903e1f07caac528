"""Stage 1 on this machine (`--engine duckdb`): one `analyze export` per host, as many at once
as there are cores.

Enters: the analyze binary, the host groups (groups.py), the output directory. Leaves: a result
per host (export_group.py), in host order.
"""

import os
from concurrent.futures import ThreadPoolExecutor

from export_group import export_group


def run(analyze, groups, out, command="export", jobs=None):
    """Exports every group into `out`; threads only wait on the subprocesses."""
    jobs = jobs or os.cpu_count() or 1
    items = [(host, [r.path for r in recs]) for host, recs in groups.items()]
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=min(jobs, len(items))) as pool:
        return list(pool.map(lambda item: export_group(analyze, item[0], item[1], out, command),
                             items))
