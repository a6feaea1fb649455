from django.core.management.base import BaseCommand

from ...schedules import install


class Command(BaseCommand):
    help = "Create or update the help desk's django-q2 schedules (idempotent)."

    def handle(self, *args, **options):
        for name, created in install():
            self.stdout.write(f"{'created' if created else 'up to date'}: {name}")
