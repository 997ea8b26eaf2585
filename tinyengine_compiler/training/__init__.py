"""On-device training, simulated: update schemes (config.py), datasets (datasets.py) and the
numpy reference trainer (trainer.py), the golden model of the generated training C."""
