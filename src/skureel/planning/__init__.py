"""Intent resolution: products and a brand kit in, shot blueprints, prompts, lint and cost out."""

from skureel.planning.blueprint import plan_catalog, plan_product
from skureel.planning.vocab import Vocabulary, load_vocabulary

__all__ = ["Vocabulary", "load_vocabulary", "plan_catalog", "plan_product"]
