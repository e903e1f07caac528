//! A layered graph, what `order` and `place` work on: the services of one part of the
//! topology and the points where its edges cross the layers between, each an item in a
//! layer, linked to items of the layers just before and after.

/// Items in layers, linked between neighbouring layers.
#[derive(Debug, Clone, Default)]
pub struct Layered {
    /// The items of each layer, in their order (top to bottom once ordered).
    pub layers: Vec<Vec<usize>>,
    /// For each item, its links to items of the layer before.
    pub up: Vec<Vec<Link>>,
    /// For each item, its links to items of the layer after.
    pub down: Vec<Vec<Link>>,
}

/// A link to an item of a neighbouring layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// The item linked to.
    pub item: usize,
    /// How much keeping the link straight matters: more between the points of one long edge,
    /// so that it runs straight across the picture.
    pub weight: f64,
}

impl Layered {
    /// Items `0..layer_of.len()`, item `i` in layer `layer_of[i]`, each layer in item order;
    /// no links yet.
    pub fn new(layer_of: &[usize]) -> Self {
        let count = layer_of.iter().max().map_or(0, |max| max + 1);
        let mut layers = vec![Vec::new(); count];
        for (item, &layer) in layer_of.iter().enumerate() {
            layers[layer].push(item);
        }
        Layered {
            layers,
            up: vec![Vec::new(); layer_of.len()],
            down: vec![Vec::new(); layer_of.len()],
        }
    }

    /// Links `upper`, of one layer, to `lower`, of the next.
    pub fn link(&mut self, upper: usize, lower: usize, weight: f64) {
        self.down[upper].push(Link {
            item: lower,
            weight,
        });
        self.up[lower].push(Link {
            item: upper,
            weight,
        });
    }

    /// How many items.
    pub fn items(&self) -> usize {
        self.up.len()
    }

    /// Each item's index within its layer.
    pub fn positions(&self) -> Vec<usize> {
        let mut position = vec![0; self.items()];
        for layer in &self.layers {
            for (i, &item) in layer.iter().enumerate() {
                position[item] = i;
            }
        }
        position
    }
}
