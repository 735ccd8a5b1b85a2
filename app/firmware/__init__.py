"""Firmware in a tenant (R25, R26), one module per job: ``bundles`` (certificate bundles),
``imports`` (vendor-signed images in, Superadmins told), ``rollout`` (applying an image to
chosen devices or to every key that needs it), ``key_updaters`` (the devices that update
keys, and the key images they get), ``key_images`` (how much of an image a device holds),
``transfer`` (images in chunks over heartbeats), ``key_outcome`` (what an update at a
device came to for the key); ``targets`` says what each image is for.
"""
