//! Colours of the report: one per scenario (the same in every panel), one per
//! phase, one per error class, and the heatmap's scale.

use crate::samples::Phase;
use crate::scenario::Scenario;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// CSS notation, `#rrggbb`.
    pub fn css(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// The colour of a scenario: sync warm, async cool; fresh darker than reused.
pub fn scenario(s: Scenario) -> Rgb {
    match s {
        Scenario::SyncFresh => Rgb(0xc4, 0x16, 0x2a),
        Scenario::SyncReused => Rgb(0xff, 0x98, 0x30),
        Scenario::AsyncFresh => Rgb(0x1f, 0x60, 0xc4),
        Scenario::AsyncReused => Rgb(0x37, 0x87, 0x2d),
    }
}

/// The colour of a phase in the stacked bars.
pub fn phase(p: Phase) -> Rgb {
    match p {
        Phase::Dns => Rgb(0x8e, 0x44, 0xad),
        Phase::Connect => Rgb(0x16, 0xa0, 0x85),
        Phase::Tls => Rgb(0xe6, 0x7e, 0x22),
        Phase::Ttfb => Rgb(0x34, 0x98, 0xdb),
        Phase::Body => Rgb(0x7f, 0x8c, 0x8d),
        Phase::Total => Rgb(0x2c, 0x3e, 0x50),
    }
}

/// Colours for error classes, by their position in the sorted class list.
pub fn error_class(i: usize) -> Rgb {
    const CLASSES: [Rgb; 6] = [
        Rgb(0xd6, 0x27, 0x28),
        Rgb(0x94, 0x67, 0xbd),
        Rgb(0x8c, 0x56, 0x4b),
        Rgb(0xe3, 0x77, 0xc2),
        Rgb(0xbc, 0xbd, 0x22),
        Rgb(0x17, 0xbe, 0xcf),
    ];
    CLASSES[i % CLASSES.len()]
}

/// The heatmap's colour for a share in `[0, 1]`: pale yellow to dark red.
pub fn heat(share: f64) -> Rgb {
    let t = share.clamp(0.0, 1.0);
    let (from, to) = ((255.0, 237.0, 160.0), (128.0, 0.0, 38.0));
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    Rgb(mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_have_distinct_colours() {
        let colours: std::collections::BTreeSet<String> =
            Scenario::ALL.iter().map(|s| scenario(*s).css()).collect();
        assert_eq!(colours.len(), 4);
        assert_eq!(heat(0.0), Rgb(255, 237, 160));
        assert_eq!(heat(1.0), Rgb(128, 0, 38));
        assert_eq!(Rgb(1, 2, 255).css(), "#0102ff");
    }
}
