//! Safe decoding and the thumbnail itself: the bytes must be the declared format (by their
//! signature), the header's dimensions are checked before any pixel is decoded, the
//! decoder runs under `image::Limits`, and the output is a small baseline JPEG (an image's
//! transparency laid on white, its EXIF orientation applied).

use std::io::Cursor;

use huddle_shared::files::thumbnails::ThumbnailShape;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

/// The widest or tallest image decoded.
pub const MAX_SIDE: u32 = 10_000;
/// The most pixels decoded (40 megapixels: a 7,700 × 5,200 photo).
pub const MAX_PIXELS: u64 = 40_000_000;
/// The most memory the decoder may hold, the decoded image included: 40 megapixels of
/// 8-bit RGBA is 160 MB; 16-bit colour over this is refused.
pub const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;
// What the limits promise: 40 megapixels of 8-bit RGBA decode within the memory limit, and
// the pixel limit is the binding one for images within the side limit.
const _: () = assert!(MAX_PIXELS * 4 <= MAX_DECODED_BYTES);
const _: () = assert!((MAX_SIDE as u64) * (MAX_SIDE as u64) > MAX_PIXELS);

/// JPEG quality of thumbnails.
const QUALITY: u8 = 80;

/// The decoders the thumbnails function has, by the media types that name them.
fn format_of(content_type: &str) -> Option<ImageFormat> {
    match content_type {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    limits
}

/// The thumbnail of `bytes`, an image declared as `content_type`, as JPEG bytes; `Err`
/// says why there can be none. Never panics on any input (a decoder bug aside, which the
/// caller catches).
pub fn render(bytes: &[u8], content_type: &str, shape: ThumbnailShape) -> Result<Vec<u8>, String> {
    let image = decode(bytes, content_type)?;
    encode(&shrink(&image, shape))
}

/// Decodes an image of the declared type within the limits.
pub fn decode(bytes: &[u8], content_type: &str) -> Result<DynamicImage, String> {
    let declared =
        format_of(content_type).ok_or_else(|| format!("{content_type} gets no thumbnail"))?;
    let actual = image::guess_format(bytes).map_err(|_| "not an image".to_owned())?;
    if actual != declared {
        return Err(format!(
            "declared as {content_type} but is {}",
            actual.to_mime_type()
        ));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), declared);
    reader.limits(limits());
    // Reads the header only; the limits refuse oversized sides here, before any pixel.
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| format!("unreadable: {e}"))?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err("the image is empty".into());
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(format!("{width} × {height} is over {MAX_PIXELS} pixels"));
    }
    if decoder.total_bytes() > MAX_DECODED_BYTES {
        return Err(format!(
            "{width} × {height} takes {} bytes decoded, over {MAX_DECODED_BYTES}",
            decoder.total_bytes()
        ));
    }
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| format!("unreadable: {e}"))?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Ok(image)
}

/// `image` scaled to `shape`.
pub fn shrink(image: &DynamicImage, shape: ThumbnailShape) -> DynamicImage {
    let (width, height) = (image.width(), image.height());
    match shape {
        ThumbnailShape::Fit { longest_side } => {
            let longest = width.max(height);
            if longest <= longest_side {
                return image.clone();
            }
            let scale = |side: u32| {
                u32::try_from(u64::from(side) * u64::from(longest_side) / u64::from(longest))
                    .unwrap_or(longest_side)
                    .max(1)
            };
            image.thumbnail_exact(scale(width), scale(height))
        }
        ThumbnailShape::Square { side } => {
            let shortest = width.min(height);
            if shortest > side {
                // Down to cover the square (the fast box filter), then the centre of it.
                let scale = |length: u32| {
                    u32::try_from(u64::from(length) * u64::from(side) / u64::from(shortest))
                        .unwrap_or(side)
                        .max(side)
                };
                let covering = image.thumbnail_exact(scale(width), scale(height));
                centre_square(&covering, side)
            } else {
                // A small image: its centre square, enlarged.
                centre_square(image, shortest).resize_exact(side, side, FilterType::Triangle)
            }
        }
    }
}

/// The centred `side` × `side` part of `image` (at least that large on both sides).
fn centre_square(image: &DynamicImage, side: u32) -> DynamicImage {
    let x = (image.width() - side) / 2;
    let y = (image.height() - side) / 2;
    image.crop_imm(x, y, side, side)
}

/// A baseline JPEG of `image`, any transparency laid on white.
pub fn encode(image: &DynamicImage) -> Result<Vec<u8>, String> {
    let rgb = if image.color().has_alpha() {
        let rgba = image.to_rgba8();
        RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
            let [r, g, b, a] = rgba.get_pixel(x, y).0;
            let over_white = |c: u8| {
                let (c, a) = (u16::from(c), u16::from(a));
                u8::try_from((c * a + 255 * (255 - a) + 127) / 255).unwrap_or(u8::MAX)
            };
            image::Rgb([over_white(r), over_white(g), over_white(b)])
        })
    } else {
        image.to_rgb8()
    };
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&rgb)
        .map_err(|e| format!("encoding the thumbnail: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use huddle_shared::files::thumbnails::{ATTACHMENT_THUMBNAIL, AVATAR_THUMBNAIL};
    use image::{ImageEncoder, Rgba, RgbaImage};

    fn picture(width: u32, height: u32) -> RgbaImage {
        RgbaImage::from_fn(width, height, |x, y| {
            Rgba([(x % 256) as u8, (y % 256) as u8, 128, 255])
        })
    }

    fn encoded(image: &RgbaImage, format: ImageFormat) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        let image = match format {
            // JPEG has no alpha.
            ImageFormat::Jpeg => {
                DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(image.clone()).to_rgb8())
            }
            _ => DynamicImage::ImageRgba8(image.clone()),
        };
        image.write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    }

    fn dimensions_of(jpeg: &[u8]) -> (u32, u32) {
        assert_eq!(image::guess_format(jpeg).unwrap(), ImageFormat::Jpeg);
        let image = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg).unwrap();
        (image.width(), image.height())
    }

    /// A PNG whose header claims `width` × `height` and holds no pixel data to speak of.
    fn claimed_png(width: u32, height: u32) -> Vec<u8> {
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(&[0, 0, 0], 1, 1, image::ExtendedColorType::Rgb8)
            .unwrap();
        // Rewrite the IHDR's width and height, and its CRC.
        png[16..20].copy_from_slice(&width.to_be_bytes());
        png[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        png
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn every_format_gets_a_thumbnail_at_most_400_px_on_its_longest_side() {
        for (format, content_type) in [
            (ImageFormat::Png, "image/png"),
            (ImageFormat::Jpeg, "image/jpeg"),
            (ImageFormat::Gif, "image/gif"),
            (ImageFormat::WebP, "image/webp"),
        ] {
            let bytes = encoded(&picture(1000, 500), format);
            let thumbnail = render(&bytes, content_type, ATTACHMENT_THUMBNAIL).unwrap();
            assert_eq!(dimensions_of(&thumbnail), (400, 200), "{content_type}");
            let tall = encoded(&picture(300, 1200), format);
            let thumbnail = render(&tall, content_type, ATTACHMENT_THUMBNAIL).unwrap();
            assert_eq!(dimensions_of(&thumbnail), (100, 400), "{content_type}");
        }
    }

    #[test]
    fn small_images_keep_their_size_and_extreme_ones_keep_a_pixel() {
        let small = encoded(&picture(120, 80), ImageFormat::Png);
        let thumbnail = render(&small, "image/png", ATTACHMENT_THUMBNAIL).unwrap();
        assert_eq!(dimensions_of(&thumbnail), (120, 80));
        let strip = encoded(&picture(5000, 3), ImageFormat::Png);
        let thumbnail = render(&strip, "image/png", ATTACHMENT_THUMBNAIL).unwrap();
        assert_eq!(dimensions_of(&thumbnail), (400, 1));
    }

    #[test]
    fn avatars_are_256_px_squares_whatever_their_shape() {
        for (width, height) in [(1000, 500), (300, 900), (256, 256), (40, 30), (2000, 2)] {
            let bytes = encoded(&picture(width, height), ImageFormat::Png);
            let thumbnail = render(&bytes, "image/png", AVATAR_THUMBNAIL).unwrap();
            assert_eq!(dimensions_of(&thumbnail), (256, 256), "{width} × {height}");
        }
    }

    #[test]
    fn transparency_is_laid_on_white() {
        let clear = RgbaImage::from_pixel(10, 10, Rgba([0, 0, 0, 0]));
        let bytes = encoded(&clear, ImageFormat::Png);
        let thumbnail = render(&bytes, "image/png", ATTACHMENT_THUMBNAIL).unwrap();
        let decoded = image::load_from_memory(&thumbnail).unwrap().to_rgb8();
        assert!(
            decoded.pixels().all(|p| p.0.iter().all(|&c| c > 245)),
            "not white"
        );
    }

    #[test]
    fn a_header_claiming_huge_dimensions_is_refused_before_decoding() {
        for (width, height) in [(100_000, 100_000), (10_001, 10), (8000, 6000)] {
            let bomb = claimed_png(width, height);
            assert!(bomb.len() < 100, "{} bytes", bomb.len());
            let refused = render(&bomb, "image/png", ATTACHMENT_THUMBNAIL).unwrap_err();
            assert!(
                refused.contains("limit")
                    || refused.contains("pixels")
                    || refused.contains("unreadable"),
                "{width} × {height}: {refused}"
            );
        }
        // Inside the limits the same trick is merely a corrupt image.
        let truncated = claimed_png(2000, 2000);
        let refused = render(&truncated, "image/png", ATTACHMENT_THUMBNAIL).unwrap_err();
        assert!(refused.starts_with("unreadable"), "{refused}");
    }

    #[test]
    fn corrupt_and_mislabelled_images_are_refused() {
        let png = encoded(&picture(64, 64), ImageFormat::Png);
        let jpeg = encoded(&picture(64, 64), ImageFormat::Jpeg);
        let cases: [(&[u8], &str, &str); 5] = [
            (b"definitely not an image", "image/png", "not an image"),
            (&[], "image/jpeg", "not an image"),
            (
                &jpeg,
                "image/png",
                "declared as image/png but is image/jpeg",
            ),
            (&png, "image/gif", "declared as image/gif but is image/png"),
            (&png[..png.len() / 2], "image/png", "unreadable"),
        ];
        for (bytes, content_type, why) in cases {
            let refused = render(bytes, content_type, ATTACHMENT_THUMBNAIL).unwrap_err();
            assert!(refused.starts_with(why), "{content_type}: {refused}");
        }
        let refused = render(&png, "application/pdf", ATTACHMENT_THUMBNAIL).unwrap_err();
        assert!(refused.contains("gets no thumbnail"), "{refused}");
    }
}
