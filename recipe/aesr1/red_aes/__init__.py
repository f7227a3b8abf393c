"""RED-Aes (red-aes-paper.md): relative edit-induced difference learning on top of the Aes-R1 recipe.

* ``voting``: the multi-expert voting protocol of Appendix 0.A (Table 7);
* ``classical_editor``: CPU quality edits with ordered strengths;
* ``group_batching``: whole source-edit groups per RL batch and comparison groups by key;
* the data engine (instructions, edits, VIEScore filter, judge consensus) and the dataset builders.
"""
