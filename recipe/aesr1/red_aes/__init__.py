"""RED-Aes (red-aes-paper.md): relative edit-induced difference learning on top of the Aes-R1 recipe.

* ``voting``: the multi-expert voting protocol of Appendix 0.A (Table 7);
* ``classical_editor`` / ``editors``: CPU quality edits with ordered strengths, HTTP instruction editors;
* ``engine`` (+ ``engine_config``, ``engine_prompts``, ``engine_records``, ``engine_outputs``, ``engine_cli``):
  the data engine of Sec. 3.1 and the PT-O1 / PT-O2 / calibration / RL datasets;

Stage 3 sets ``rapo.group_key: group_id``; comparing images within groups
(``recipe.aesr1.rapo.scope.ComparisonScope``) and keeping groups whole in a batch
(``recipe.aesr1.rapo.whole_groups``) are features of the RAPO hook.
See README.md for usage.
"""
