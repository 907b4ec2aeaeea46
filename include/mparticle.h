/*
 * libmparticle: the C SDK for the mParticle Events API. Umbrella header.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#ifndef MPARTICLE_H
#define MPARTICLE_H

#include "mparticle/common.h"
#include "mparticle/version.h"
#include "mparticle/model.h"
#include "mparticle/codec.h"
#include "mparticle/transport.h"
#include "mparticle/client.h"
#include "mparticle/uploader.h"
#include "mparticle/spool.h"

#endif /* MPARTICLE_H */
