"""The title parser against the shapes music videos are really uploaded under."""

from __future__ import annotations

import pytest

from videos.titles import Parsed, channel_artist, from_info, parse_title, strip_noise

# (site title, channel or "", artist, title)
TITLES = [
    # plain "Artist - Title" and the usual noise
    (
        "Rick Astley - Never Gonna Give You Up (Official Music Video)",
        "",
        "Rick Astley",
        "Never Gonna Give You Up",
    ),
    ("Coldplay - Yellow (Official Video)", "", "Coldplay", "Yellow"),
    ("Oasis - Wonderwall [Official Video]", "", "Oasis", "Wonderwall"),
    ("Radiohead - Creep [HD]", "", "Radiohead", "Creep"),
    ("Radiohead - Karma Police (HD)", "", "Radiohead", "Karma Police"),
    ("Bon Iver - Holocene [4K]", "", "Bon Iver", "Holocene"),
    ("Avicii - Wake Me Up (Lyric Video)", "", "Avicii", "Wake Me Up"),
    ("Adele - Hello (Lyrics)", "", "Adele", "Hello"),
    ("Imagine Dragons - Believer (Audio)", "", "Imagine Dragons", "Believer"),
    ("Lorde - Team (Official Audio)", "", "Lorde", "Team"),
    ("Massive Attack - Angel (Visualizer)", "", "Massive Attack", "Angel"),
    ("Caribou - Can't Do Without You (Official Visualiser)", "", "Caribou", "Can't Do Without You"),
    ("The Beatles - Come Together (Remastered 2009)", "", "The Beatles", "Come Together"),
    ("The Clash - London Calling (2019 Remaster)", "", "The Clash", "London Calling"),
    ("Led Zeppelin - Stairway To Heaven (Remaster)", "", "Led Zeppelin", "Stairway To Heaven"),
    ("Toto - Africa (Official HD Video)", "", "Toto", "Africa"),
    ("Rammstein - Du Hast (Official 4K Video)", "", "Rammstein", "Du Hast"),
    ("Fleetwood Mac - Dreams (Official Music Video) [HD]", "", "Fleetwood Mac", "Dreams"),
    ("a-ha - Take On Me (Official Video) [Remastered in 4K]", "", "a-ha", "Take On Me"),
    ("Queen - Bohemian Rhapsody (Official Video Remastered)", "", "Queen", "Bohemian Rhapsody"),
    ("Nine Inch Nails - Hurt (Official Music Video) [HD Remaster]", "", "Nine Inch Nails", "Hurt"),
    ("The Prodigy - Breathe (Official Video) [HQ]", "", "The Prodigy", "Breathe"),
    ("Portishead - Glory Box (Official Video) HD", "", "Portishead", "Glory Box"),
    (
        "Kate Bush - Running Up That Hill - Official Music Video",
        "",
        "Kate Bush",
        "Running Up That Hill",
    ),
    ("Gorillaz - Clint Eastwood Official Video", "", "Gorillaz", "Clint Eastwood"),
    (
        "The Rolling Stones - Paint It, Black (Official Lyric Video)",
        "",
        "The Rolling Stones",
        "Paint It, Black",
    ),
    ("Stromae - Alors On Danse (Clip Officiel)", "", "Stromae", "Alors On Danse"),
    ("Kraftwerk - Das Model (Offizielles Musikvideo)", "", "Kraftwerk", "Das Model"),
    (
        "Beyoncé - Single Ladies (Put a Ring on It) (Video Version)",
        "",
        "Beyoncé",
        "Single Ladies (Put a Ring on It)",
    ),
    (
        "Daft Punk - Around The World (Official Music Video Remastered)",
        "",
        "Daft Punk",
        "Around The World",
    ),
    (
        "Skrillex - First Of The Year (Official Video) (Explicit)",
        "",
        "Skrillex",
        "First Of The Year",
    ),
    # what is not noise stays
    ("Lorde - Royals (US Version)", "", "Lorde", "Royals (US Version)"),
    ("Sia - Cheap Thrills (Performance Edit)", "", "Sia", "Cheap Thrills (Performance Edit)"),
    (
        "Eagles - Hotel California (Live 1977) (Official Video) [HD]",
        "",
        "Eagles",
        "Hotel California (Live 1977)",
    ),
    ("Nirvana - Lake Of Fire (Official Live Video)", "", "Nirvana", "Lake Of Fire (Live)"),
    (
        "Aphex Twin - Windowlicker (Director's Cut)",
        "",
        "Aphex Twin",
        "Windowlicker (Director's Cut)",
    ),
    (
        "Kavinsky - Nightcall (Drive Original Movie Soundtrack) (Official Audio)",
        "",
        "Kavinsky",
        "Nightcall (Drive Original Movie Soundtrack)",
    ),
    ("Modjo - Lady (Hear Me Tonight) [Official Video]", "", "Modjo", "Lady (Hear Me Tonight)"),
    (
        "The Buggles - Video Killed The Radio Star (Official Music Video)",
        "",
        "The Buggles",
        "Video Killed The Radio Star",
    ),
    ("Lana Del Rey - Video Games", "", "Lana Del Rey", "Video Games"),
    ("Kendrick Lamar - HUMBLE.", "", "Kendrick Lamar", "HUMBLE."),
    (
        "Arctic Monkeys - Do I Wanna Know? (Official Video)",
        "",
        "Arctic Monkeys",
        "Do I Wanna Know?",
    ),
    (
        "Shakira - Waka Waka (This Time for Africa) (The Official 2010 FIFA World Cup™ Song)",
        "",
        "Shakira",
        "Waka Waka (This Time for Africa) (The Official 2010 FIFA World Cup™ Song)",
    ),
    ("Tame Impala - Let It Happen - Live", "", "Tame Impala", "Let It Happen - Live"),
    # names with dashes, slashes, apostrophes, accents, capitals
    ("AC/DC - Thunderstruck (Official Video)", "", "AC/DC", "Thunderstruck"),
    ("Jay-Z - 99 Problems", "", "Jay-Z", "99 Problems"),
    ("Run-D.M.C. - It's Tricky (Official HD Video)", "", "Run-D.M.C.", "It's Tricky"),
    (
        "Guns N' Roses - Sweet Child O' Mine (Official Music Video)",
        "",
        "Guns N' Roses",
        "Sweet Child O' Mine",
    ),
    ("Röyksopp - Eple (Official Video)", "", "Röyksopp", "Eple"),
    ("Sigur Rós - Hoppípolla", "", "Sigur Rós", "Hoppípolla"),
    ("METALLICA - ONE (OFFICIAL VIDEO)", "", "METALLICA", "ONE"),
    ("DJ Snake, Lil Jon - Turn Down for What", "", "DJ Snake, Lil Jon", "Turn Down for What"),
    (
        '"Weird Al" Yankovic - White & Nerdy (Official Music Video)',
        "",
        '"Weird Al" Yankovic',
        "White & Nerdy",
    ),
    ("billie eilish - bad guy", "", "billie eilish", "bad guy"),
    # other separators
    ("David Bowie – Heroes (Official Video)", "", "David Bowie", "Heroes"),
    ("Pink Floyd — Money (2011 Remastered)", "", "Pink Floyd", "Money"),
    ("Daft Punk–Digital Love", "", "Daft Punk", "Digital Love"),
    ("Boards of Canada -- Dayvan Cowboy", "", "Boards of Canada", "Dayvan Cowboy"),
    ("Mac Miller: NPR Music Tiny Desk Concert", "", "Mac Miller", "NPR Music Tiny Desk Concert"),
    # quoted titles
    ('Kanye West "Stronger"', "", "Kanye West", "Stronger"),
    ('Beastie Boys "Sabotage" (Official Music Video)', "", "Beastie Boys", "Sabotage"),
    ('Frank Ocean - "Nikes"', "", "Frank Ocean", "Nikes"),
    ("Guns N' Roses 'November Rain'", "", "Guns N' Roses", "November Rain"),
    ('"Hurt" by Johnny Cash', "", "Johnny Cash", "Hurt"),
    ("BTS (방탄소년단) 'Dynamite' Official MV", "", "BTS (방탄소년단)", "Dynamite"),
    ("BLACKPINK - '뚜두뚜두 (DDU-DU DDU-DU)' M/V", "", "BLACKPINK", "뚜두뚜두 (DDU-DU DDU-DU)"),
    ("PSY - GANGNAM STYLE(강남스타일) M/V", "", "PSY", "GANGNAM STYLE(강남스타일)"),
    ("【MV】YOASOBI「夜に駆ける」", "", "YOASOBI", "夜に駆ける"),
    ("米津玄師 MV「Lemon」", "", "米津玄師", "Lemon"),
    # featured artists stay with the title
    (
        "Mark Ronson - Uptown Funk (Official Video) ft. Bruno Mars",
        "",
        "Mark Ronson",
        "Uptown Funk ft. Bruno Mars",
    ),
    ("Luis Fonsi - Despacito ft. Daddy Yankee", "", "Luis Fonsi", "Despacito ft. Daddy Yankee"),
    ("Eminem - Love The Way You Lie ft. Rihanna", "", "Eminem", "Love The Way You Lie ft. Rihanna"),
    ("A - B ft. C (Official Video)", "", "A", "B ft. C"),
    (
        "Major Lazer & DJ Snake - Lean On (feat. MØ) (Official Music Video)",
        "",
        "Major Lazer & DJ Snake",
        "Lean On (feat. MØ)",
    ),
    (
        "Skrillex - Bangarang feat. Sirah [Official Music Video]",
        "",
        "Skrillex",
        "Bangarang feat. Sirah",
    ),
    (
        "Dua Lipa - Levitating Featuring DaBaby (Official Music Video)",
        "",
        "Dua Lipa",
        "Levitating Featuring DaBaby",
    ),
    ("Post Malone ft. 21 Savage - rockstar", "", "Post Malone", "rockstar ft. 21 Savage"),
    (
        "Calvin Harris feat. Rihanna - This Is What You Came For (Official Video)",
        "",
        "Calvin Harris",
        "This Is What You Came For feat. Rihanna",
    ),
    (
        "Gorillaz (feat. De La Soul) - Feel Good Inc.",
        "",
        "Gorillaz",
        "Feel Good Inc. (feat. De La Soul)",
    ),
    (
        "Daft Punk - Get Lucky (Official Audio) ft. Pharrell Williams, Nile Rodgers",
        "",
        "Daft Punk",
        "Get Lucky ft. Pharrell Williams, Nile Rodgers",
    ),
    # "| Artist", "| Label" and the channel's word
    ("Blinding Lights | The Weeknd", "", "The Weeknd", "Blinding Lights"),
    (
        "Powerwolf - Army of the Night (Official Video) | Napalm Records",
        "",
        "Powerwolf",
        "Army of the Night",
    ),
    ("Blinding Lights | Official Video", "", "", "Blinding Lights"),
    ("The Weeknd | Blinding Lights", "The Weeknd", "The Weeknd", "Blinding Lights"),
    (
        "Numb [Official Music Video] [4K UPGRADE] - Linkin Park",
        "Linkin Park",
        "Linkin Park",
        "Numb",
    ),
    ("In the End - Linkin Park", "LinkinParkVEVO", "Linkin Park", "In the End"),
    # no artist in the title at all
    ("Never Gonna Give You Up (Official Video)", "", "", "Never Gonna Give You Up"),
    ("Official Video", "", "", "Official Video"),
    ("", "", "", ""),
]


@pytest.mark.parametrize(("text", "channel", "artist", "title"), TITLES)
def test_a_title_splits_into_artist_and_title(text, channel, artist, title):
    assert parse_title(text, channel) == Parsed(artist, title)


def test_the_table_covers_at_least_fifty_shapes():
    assert len({text for text, *_ in TITLES}) >= 50


@pytest.mark.parametrize(
    ("channel", "artist"),
    [
        ("RickAstleyVEVO", "Rick Astley"),
        ("AdeleVEVO", "Adele"),
        ("ACDCVEVO", "ACDC"),
        ("Daft Punk - Topic", "Daft Punk"),
        ("Metallica", "Metallica"),
        ("Rammstein Official", "Rammstein"),
        ("VEVO", "VEVO"),
        ("", ""),
    ],
)
def test_a_channel_name_gives_its_artist(channel, artist):
    assert channel_artist(channel) == artist


INFOS = [
    # the site's own fields win over the title
    (
        {"title": "Whatever it says", "artist": "Daft Punk", "track": "Get Lucky (Radio Edit)"},
        "Daft Punk",
        "Get Lucky (Radio Edit)",
    ),
    (
        {"title": "x", "artists": ["Daft Punk", "Pharrell Williams"], "track": "Get Lucky"},
        "Daft Punk",
        "Get Lucky (feat. Pharrell Williams)",
    ),
    (
        {
            "title": "Rick Astley - Never Gonna Give You Up (Official Video)",
            "artist": "Rick Astley",
        },
        "Rick Astley",
        "Never Gonna Give You Up",
    ),
    (
        {
            "title": "Song (Official Audio)",
            "track": "Song (Official Audio)",
            "uploader": "Band - Topic",
        },
        "Band",
        "Song",
    ),
    # the title when the site gives no artist
    ({"title": "Artist - Title (Official Video)", "uploader": "Some Label"}, "Artist", "Title"),
    ({"title": "A - B ft. C (Official Video)"}, "A", "B ft. C"),
    # creator, then the channel, only as a last resort
    ({"title": "Song", "creator": "Some Artist", "uploader": "A Label"}, "Some Artist", "Song"),
    (
        {"title": "Never Gonna Give You Up (Official Video)", "uploader": "RickAstleyVEVO"},
        "Rick Astley",
        "Never Gonna Give You Up",
    ),
    ({"title": "Song", "channel": "Band Official"}, "Band", "Song"),
    ({"title": "Song"}, "", "Song"),
    # a web page's video, numbered by yt-dlp
    ({"title": "Band - Song (Official Video) (1)", "extractor": "html5"}, "Band", "Song"),
    ({"title": "Band - Song (2)", "extractor": "youtube"}, "Band", "Song (2)"),
    ({}, "", ""),
    # odd values from a site never break it
    ({"title": 5, "artist": None, "artists": [None, ""], "track": ["x"]}, "", "x"),
]


@pytest.mark.parametrize(("info", "artist", "title"), INFOS)
def test_metadata_gives_artist_and_title(info, artist, title):
    assert from_info(info) == Parsed(artist, title)


def test_control_characters_and_odd_spaces_are_tidied():
    assert parse_title("Band\u00a0-\u2003Song\x00 (Official Video)\n") == Parsed("Band", "Song")


def test_noise_alone_is_stripped_from_a_track_name():
    assert strip_noise("Song [Official Music Video] (HD)") == "Song"


def test_a_huge_title_is_cut_to_the_field_sizes():
    parsed = parse_title("A" * 450 + " - " + "B" * 500)
    assert (len(parsed.artist), len(parsed.title)) == (200, 300)
    parsed = parse_title("A - " + "(" * 50_000 + "B" * 50_000)
    assert parsed.artist == "A" and len(parsed.title) <= 300
