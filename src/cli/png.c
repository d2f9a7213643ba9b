// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * PNG output of heatmaps through libpng (Debian's libpng-dev), kept apart
 * from the library so that only the udamon program links libpng.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#ifdef UDAMON_HAVE_PNG
#include <png.h>
#endif

bool cli_png_supported(void)
{
#ifdef UDAMON_HAVE_PNG
	return true;
#else
	return false;
#endif
}

#ifdef UDAMON_HAVE_PNG
/* png_error() longjmps; everything it leaves behind is freed by the caller. */
static int write_png(FILE *f, const unsigned char *rgb, unsigned int width,
		     unsigned int height)
{
	png_structp png;
	png_infop info = NULL;
	unsigned int y;
	volatile int ret = -EIO;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (!png)
		return -ENOMEM;
	info = png_create_info_struct(png);
	if (!info)
		goto out;
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_init_io(png, f);
	png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < height; y++)
		png_write_row(png,
			      (png_const_bytep)(rgb + (size_t)y * width * 3));
	png_write_end(png, NULL);
	ret = 0;
out:
	png_destroy_write_struct(&png, &info);
	return ret;
}
#endif

int cli_png_write(const char *path, const unsigned char *rgb,
		  unsigned int width, unsigned int height)
{
#ifdef UDAMON_HAVE_PNG
	FILE *f = fopen(path, "wb");
	int err;

	if (!f)
		return -errno;
	err = write_png(f, rgb, width, height);
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		remove(path);
	return err;
#else
	return -EOPNOTSUPP;
#endif
}
