"""Webhooks as Sohar sends them: endpoints, Svix signing, delivery with Svix's retries, a journal."""

from .dispatcher import RETRY_SCHEDULE, WebhookDispatcher
from .endpoints import DOCUMENTED_EVENT_TYPES, Endpoint, EndpointRegistry
from .messages import Attempt, DeliveryJournal, Message

__all__ = [
    "DOCUMENTED_EVENT_TYPES",
    "RETRY_SCHEDULE",
    "Attempt",
    "DeliveryJournal",
    "Endpoint",
    "EndpointRegistry",
    "Message",
    "WebhookDispatcher",
]
