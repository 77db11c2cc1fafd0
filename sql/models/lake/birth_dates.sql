-- grain: one row per row of the staged table of the same name, every source and snapshot (generated)
{{ staged_table() }}
