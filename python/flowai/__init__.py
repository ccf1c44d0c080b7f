"""flowai: the Flow.ai and AIDA SDK for Python.

Every class is one kind of object of the SDK (``MessagingClient``, ``Session``,
``AidaClient``, ``WebhookReceiver``, ...), opened with keyword settings (the ``FLOWAI_*``
environment fills the rest). Every method has a blocking form, which releases the GIL
while it waits, and an asyncio form ``*_async``. Events (``session.on("reply", cb)``,
``for event in session``, ``async for event in session``) carry the core's names and
fields. Errors are :class:`FlowAIError` subclasses with the stable ``.code`` of every
language, the core's ``.message`` and the HTTP ``.status`` when there was one. The SDK
logs through ``logging.getLogger("flowai")``.
"""

# The public names are the generated ones (`_api.__all__`) and these; no `__all__` here, so
# that type checkers see the star import's names without a hand-kept copy of the list.
from . import _logging as _logging  # routes the core's log records to logging
from ._api import *  # noqa: F403
from ._flowai import __version__ as __version__
from ._object import Event as Event
from ._object import Object as Object
