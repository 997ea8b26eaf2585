"""On-device training, simulated: the numpy reference trainer (trainer.py), the golden model of
the generated training C, and the float32 trainer of the same graph (float_trainer.py)."""
