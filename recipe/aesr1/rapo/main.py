"""Train Aes-R1 with RAPO on verl 0.9.1: ``python -m recipe.aesr1.rapo.main [hydra overrides]``.

The only change to verl's ``python -m verl.trainer.main_ppo`` is the trainer class: RAPO adds the
cross-image reward (rank, Thurstone or consistency) in :class:`recipe.aesr1.rapo.trainer.RapoTrainer`
before verl's GRPO advantage. verl's ``TaskRunnerV1`` picks its trainer by ``trainer_mode`` from a
registry whose "sync" entry is taken, so this module has its own small runner that builds
``RapoTrainer`` and otherwise reuses verl's runner. The config is ``configs/rapo_trainer.yaml`` (FSDP;
``--config-name=rapo_megatron_trainer`` for Megatron): verl's ``ppo_trainer`` plus the paper's Appendix C
values from ``rapo_common.yaml``. The reward and the checkpoint folder are checked before Ray starts.
"""

from __future__ import annotations

from pprint import pprint

import hydra
import ray
from omegaconf import DictConfig, OmegaConf
from verl.trainer.main_ppo import TaskRunnerV1, run_ppo
from verl.trainer.ppo.utils import need_critic, need_reference_policy
from verl.utils.config import validate_config
from verl.utils.device import auto_set_device

from recipe.aesr1.config_dir import CONFIG_DIR
from recipe.aesr1.rapo.config import check_rapo_config


@ray.remote
class RapoTaskRunner(TaskRunnerV1.__ray_actor_class__):
    """verl's v1 task runner with :class:`RapoTrainer` as the trainer (same steps as ``TaskRunnerV1.run``)."""

    def run(self, config: DictConfig) -> None:
        import transfer_queue as tq
        from verl.utils.logging_utils import configure_verl_logging

        from recipe.aesr1.rapo.trainer import RapoTrainer

        configure_verl_logging()
        config.transfer_queue.enable = True
        pprint(OmegaConf.to_container(config, resolve=True))
        OmegaConf.resolve(config)
        self.config = config
        tq.init(config.transfer_queue)
        succeeded = False
        try:
            self.trainer = RapoTrainer(config=config)
            self.trainer.init()
            self.init_agent_loop_manager()
            self.trainer.fit(self.agent_loop_manager)
            succeeded = True
        finally:
            try:
                tracking = getattr(self.trainer, "logger", None)
                if tracking is not None:
                    tracking.finish(exit_code=0 if succeeded else 1)
            finally:
                tq.close()


def check_shared_checkpoint_dir(config: DictConfig) -> None:
    """Several nodes: actor workers on every node write their shards under ``trainer.default_local_dir``,
    and resume and merge read all of them, so it must be one folder of a shared filesystem. A relative
    path (verl's default ``checkpoints/...``) resolves on each node's own disk; refuse it.

    Raises:
        ValueError: naming the key, when ``trainer.nnodes > 1`` and the path is relative.
    """
    path = str(config.trainer.default_local_dir)
    if int(config.trainer.nnodes) > 1 and not path.startswith(("/", "hdfs://")):
        raise ValueError(
            f"config key trainer.default_local_dir={path!r} is relative, with trainer.nnodes={config.trainer.nnodes}: "
            "every node writes its checkpoint shards there, so give an absolute path on a filesystem all nodes share"
        )


def check_config(config: DictConfig) -> None:
    """Everything that can be checked before Ray starts: RAPO's keys, then verl's own validation."""
    check_rapo_config(config)
    check_shared_checkpoint_dir(config)
    auto_set_device(config)
    validate_config(config=config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))


@hydra.main(config_path=CONFIG_DIR, config_name="rapo_trainer", version_base=None)
def main(config: DictConfig) -> None:
    check_config(config)
    run_ppo(config, task_runner_class=RapoTaskRunner)


if __name__ == "__main__":
    main()
