from videos.models.artist import Artist
from videos.models.filing import TECHNICAL
from videos.models.profile import MAX_HEIGHT, Profile, UnknownProfile, download_settings
from videos.models.status import VideoStatus
from videos.models.text import MAX_ID, clean_text, name_key, safe_name, sort_name
from videos.models.video import Video

__all__ = [
    "MAX_HEIGHT",
    "MAX_ID",
    "TECHNICAL",
    "Artist",
    "Profile",
    "UnknownProfile",
    "Video",
    "VideoStatus",
    "clean_text",
    "download_settings",
    "name_key",
    "safe_name",
    "sort_name",
]
