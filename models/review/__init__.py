"""Expert review as data: score sheets, aggregation and normalisation, ranking within quotas, and the stage's
messages (tasks, reviews, outcomes) that cross the workflow boundary."""
