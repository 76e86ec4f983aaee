"""The commander's situation overview and the daily briefing (调度会材料): one read model over
every domain that has landed, its daily snapshots, and its renderings (page, .xlsx, PDF)."""
