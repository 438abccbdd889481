"""The virtual device's own MCUboot code (bootutil): flash areas, trailers, image checks, the app's side.

It never imports rig.mcuboot, the checker that judges it: one misreading of MCUboot
must not be made on both sides, or the tests could not see it.
"""
