"""The embeddable web chat: ``widget.js`` (served at ``/widget.js``) and the public widget API it
talks to (``/api/v1/widget/{channel_id}/...``)."""
