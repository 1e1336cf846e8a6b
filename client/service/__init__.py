"""The service layer every interface goes through (the CLI's commands and the HTTP API): who asks, whether they
may, input checked once, the change made, refused attempts recorded."""

from __future__ import annotations

from client.service.applying import Applying
from client.service.core import Core, checked
from client.service.defending import Defending
from client.service.overview import Overview
from client.service.paper import Paper
from client.service.reads import Reads
from client.service.review import Review
from client.service.uploads import Uploads


class Service(Paper, Review, Applying, Overview, Reads, Defending, Uploads):
    """Everything a person or the operator can do with grantflow."""


__all__ = ["Core", "Service", "checked"]
