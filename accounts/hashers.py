"""Password hashing sized for the server: Django's default Argon2 (100 MiB, 8 lanes) costs about 250 ms of CPU per
login on two cores, at the expense of every other request. OWASP's minimum for Argon2id is 19 MiB with two passes;
two lanes match the cores. Hashes made with other parameters still verify (they carry their own) and Django
rehashes them with these on the next successful login."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class ServerArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 2
