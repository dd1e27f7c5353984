"""Writers that turn a canonical synthetic trust into the files schools really have:
MIS exports (SIMS-, Arbor- and Bromcom-like CSV/XLSX), the DfE Common Transfer File,
forms exports and provision trackers, each with some planted mess."""
