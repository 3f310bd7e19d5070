//! What every chart shares: the bundled font, the frame (title, plot area, caption), the palette,
//! the time unit of a latency axis, and rendering to SVG or PNG bytes.

use std::error::Error;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use crate::report::ReportError;

/// Width and height of a chart, pixels, unless it needs more (see [`Drawing::size`]).
pub(super) const SIZE: (u32, u32) = (1200, 800);

/// The font family every chart's text is set in: the bundled DejaVu Sans.
pub(super) const FONT: &str = "sans-serif";

/// DejaVu Sans (Bitstream Vera licence, assets/fonts/LICENSE-DejaVu.txt).
static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// The series colours, in order (colour-blind safe, after Okabe and Ito).
pub(super) const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
];

/// The colour of marks for what went wrong: saturation, unstable points, missed targets.
pub(super) const ALERT: RGBColor = RGBColor(200, 30, 30);

/// A drawing's failure, whatever the backend.
pub(super) type Drawn = Result<(), Box<dyn Error>>;

/// The file format of a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// Scalable vector graphics, text as text.
    Svg,
    /// An RGB bitmap, 1200x800 or taller.
    Png,
}

/// A chart that can draw itself on any plotters backend.
pub(super) trait Drawing {
    /// Width and height in pixels: [`SIZE`] unless the chart needs more room.
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    /// Draws the whole chart on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static;
}

fn register_fonts() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        if register_font(FONT, FontStyle::Normal, DEJAVU_SANS).is_err() {
            unreachable!("the bundled font parses");
        }
    });
}

/// `drawing` as the bytes of a file in `format`.
pub(super) fn render(drawing: &impl Drawing, format: ImageFormat) -> Result<Vec<u8>, ReportError> {
    register_fonts();
    let failed = |error: Box<dyn Error>| ReportError::Draw { message: error.to_string() };
    let size = drawing.size();
    match format {
        ImageFormat::Svg => {
            let mut text = String::new();
            {
                let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
                drawing.draw(&root).map_err(failed)?;
                root.present().map_err(|error| failed(error.into()))?;
            }
            Ok(text.into_bytes())
        }
        ImageFormat::Png => {
            let mut pixels = vec![0; size.0 as usize * size.1 as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
                drawing.draw(&root).map_err(failed)?;
                root.present().map_err(|error| failed(error.into()))?;
            }
            encode_png(&pixels, size).map_err(|error| failed(error.into()))
        }
    }
}

fn encode_png(pixels: &[u8], (width, height): (u32, u32)) -> Result<Vec<u8>, png::EncodingError> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(pixels)?;
    }
    Ok(bytes)
}

/// Clears `root` to white, writes `title` at the top and `caption` at the bottom, and returns the
/// area between them for the plot.
pub(super) fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    caption: &str,
) -> Result<DrawingArea<DB, Shift>, Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let body = root.titled(title, (FONT, 30))?;
    let height = body.dim_in_pixel().1;
    let (plot, bottom) = body.split_vertically(height.saturating_sub(44));
    let style =
        TextStyle::from((FONT, 19)).color(&RGBColor(60, 60, 60)).pos(Pos::new(HPos::Center, VPos::Center));
    let (width, line) = bottom.dim_in_pixel();
    #[allow(clippy::cast_possible_wrap)] // chart sizes are far below i32::MAX
    bottom.draw_text(caption, &style, ((width / 2) as i32, (line / 2) as i32))?;
    Ok(plot)
}

/// A time unit for a latency axis: its name and how many of it make a second.
#[derive(Debug, Clone, Copy)]
pub(super) struct TimeUnit {
    /// "s", "ms" or "µs".
    pub name: &'static str,
    /// Units per second.
    pub per_second: f64,
}

impl TimeUnit {
    /// The unit in which `largest` seconds reads best (between 1 and 1000 of it).
    pub fn for_seconds(largest: f64) -> Self {
        if largest >= 1.0 {
            Self { name: "s", per_second: 1.0 }
        } else if largest >= 1e-3 {
            Self { name: "ms", per_second: 1e3 }
        } else {
            Self { name: "µs", per_second: 1e6 }
        }
    }
}

/// A value axis label: at most three decimals, no trailing zeros.
pub(super) fn short(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A 95% CI whisker at `x` from `low` to `high`, its caps `cap` wide either side.
pub(super) fn whisker(x: f64, [low, high]: [f64; 2], cap: f64, style: ShapeStyle) -> PathElement<(f64, f64)> {
    PathElement::new(
        vec![(x - cap, low), (x + cap, low), (x, low), (x, high), (x - cap, high), (x + cap, high)],
        style,
    )
}

/// The chart context of a plot on two continuous axes.
pub(super) type Plane<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Writes each category's name under the x axis at its position, the axis being at height `y`.
pub(super) fn category_labels<'n, DB, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    names: impl IntoIterator<Item = (f64, &'n str)>,
    y: f64,
) -> Drawn
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let style = TextStyle::from((FONT, 18)).pos(Pos::new(HPos::Center, VPos::Top));
    let labels = names
        .into_iter()
        .map(|(x, name)| EmptyElement::at((x, y)) + Text::new(name.to_owned(), (0, 12), style.clone()));
    chart.draw_series(labels)?;
    Ok(())
}

/// A note on a plot: `text` in `colour` on a white box, its lower left corner `offset` pixels
/// from the point `at`.
pub(super) fn note<DB: DrawingBackend>(
    chart: &mut Plane<'_, DB>,
    text: &str,
    at: (f64, f64),
    offset: (i32, i32),
    colour: RGBColor,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let style = TextStyle::from((FONT, 17)).color(&colour).pos(Pos::new(HPos::Left, VPos::Bottom));
    let (width, height) = style.font.box_size(text)?;
    let (width, height) = (i32::try_from(width)?, i32::try_from(height)?);
    let (x, y) = offset;
    let backdrop =
        Rectangle::new([(x - 3, y - height - 3), (x + width + 3, y + 3)], WHITE.mix(0.85).filled());
    chart.draw_series(std::iter::once(
        EmptyElement::at(at) + backdrop + Text::new(text.to_owned(), (x, y), style),
    ))?;
    Ok(())
}
