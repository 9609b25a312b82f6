from videos.models.profile import MAX_HEIGHT, Profile, UnknownProfile, download_settings
from videos.models.text import MAX_ID, clean_text, safe_name
from videos.models.video import TECHNICAL, Video

__all__ = [
    "MAX_HEIGHT",
    "MAX_ID",
    "TECHNICAL",
    "Profile",
    "UnknownProfile",
    "Video",
    "clean_text",
    "download_settings",
    "safe_name",
]
