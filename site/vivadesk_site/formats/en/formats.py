"""English as VIVA's customers read it: day first and a 24-hour clock, as in
British English ("25/10/2006 14:30"), never "10/25/2006 2:30 p.m.".

Formats not named here come from Django's own ``en`` module (Django looks
through this module first, then its own).
"""

DATE_FORMAT = "j M Y"  # '25 Oct 2006'
TIME_FORMAT = "H:i"  # '14:30'
DATETIME_FORMAT = "j M Y, H:i"  # '25 Oct 2006, 14:30'
SHORT_DATE_FORMAT = "d/m/Y"  # '25/10/2006'
SHORT_DATETIME_FORMAT = "d/m/Y H:i"  # '25/10/2006 14:30'
FIRST_DAY_OF_WEEK = 1  # Monday
