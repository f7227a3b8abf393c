"""verl plugin of the Aes-R1 recipe (setup.py: ``verl.plugins: aesr1 = recipe.aesr1.plugin``).

verl imports every ``verl.plugins`` entry point each time ``verl`` itself is imported, in the driver
and in every Ray worker, and swallows the import errors (tests/recipe/aesr1/test_plugin.py checks
that this module loads). It is the place for anything that must be registered with verl inside
workers (``@register_adv_est``, ``@register_policy_loss``, a reward manager).

In verl 0.9.1 RAPO needs no such registration: the reward loop workers load the reward function by
path (``reward.custom_reward_function.path=pkg://recipe.aesr1.reward_function``), the trainer class
is built by ``recipe.aesr1.main_rapo``'s own runner, and Eq. 9 is verl's built-in ``grpo`` estimator.
The plugin therefore only imports the reward function, so every verl process has the reward code
(and its ``reward_fns`` dependency) loaded before the first sample arrives. It must stay light: it
runs while ``verl/__init__.py`` is still executing, so it must not import verl's trainer modules.
"""

from recipe.aesr1 import reward_function

__all__ = ["reward_function"]
