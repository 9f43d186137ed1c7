"""Forward chaining: answers become facts, rules fire layer by layer in the rule engine, and each
layer's conclusions, combined by certainty, are asserted as the next layer's facts."""
