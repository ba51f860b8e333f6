"""Which function renders each message template: the app that owns the template registers it (in its AppConfig.ready),
so this app imports neither accounts nor claims. A renderer takes the Notification (its context ids) and returns the
subject and body; it is called in the message's language."""

from collections.abc import Callable

from notifications.backends import RenderedMessage

Renderer = Callable[..., RenderedMessage]
RENDERERS: dict[str, Renderer] = {}


def renderer(*templates: str) -> Callable[[Renderer], Renderer]:
    """Register the decorated function as the renderer of these template keys."""

    def register(function: Renderer) -> Renderer:
        for template in templates:
            RENDERERS[template] = function
        return function

    return register
