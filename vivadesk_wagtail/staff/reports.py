"""(being written)"""


def admin_urls():
    return []


def register_menu_item():
    return None
