from hypothesis import settings

settings.register_profile("csmetrics", deadline=None, max_examples=60)
settings.load_profile("csmetrics")
