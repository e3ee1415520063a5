from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from yunying.core.errors import register_messages


class SegmentError(StrEnum):
    NOT_FOUND = "segment.not_found"
    NAME_TAKEN = "segment.name_taken"
    SELF_REFERENCE = "segment.self_reference"
    TAG_TAKEN = "segment.tag_taken"
    NO_CHANNEL = "segment.no_channel"
    MESSAGE_EMPTY = "segment.message_empty"


register_messages(
    {
        SegmentError.NOT_FOUND: _("Segment not found."),
        SegmentError.NAME_TAKEN: _("Another segment already has this name."),
        SegmentError.SELF_REFERENCE: _("A segment's rule cannot refer to the segment itself."),
        SegmentError.TAG_TAKEN: _("That name belongs to a manual tag or to another segment's tag."),
        SegmentError.NO_CHANNEL: _("Choose at least one channel to send on."),
        SegmentError.MESSAGE_EMPTY: _("Write a subject and a message."),
    }
)
