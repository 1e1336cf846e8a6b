"""Drafting a call file from a published notice's own text: instants with their roles, categories, quotas, rules;
every value with the sentence it came from, and a TODO wherever a person must decide."""
