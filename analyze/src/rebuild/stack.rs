//! The stack each goroutine keeps of its open requests and of its calls in flight: they nest
//! (a handler may serve another in-process; a call may be handed to an inner transport), and
//! an end closes the latest one open.

/// A stack that keeps its top element inline: a goroutine rarely has more than one request or
/// call open at once, so the common case allocates nothing and costs two words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack<T> {
    top: Option<T>,
    // Boxed so that the common empty case costs one word, not a `Vec`'s three.
    #[allow(clippy::box_collection)]
    below: Option<Box<Vec<T>>>,
}

impl<T> Stack<T> {
    /// An empty stack.
    pub const fn new() -> Self {
        Stack {
            top: None,
            below: None,
        }
    }
}

impl<T> Default for Stack<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy> Stack<T> {
    /// Puts `x` on top.
    pub fn push(&mut self, x: T) {
        if let Some(old) = self.top.replace(x) {
            self.below.get_or_insert_with(Box::default).push(old);
        }
    }

    /// Takes the top off.
    pub fn pop(&mut self) -> Option<T> {
        let top = self.top.take();
        self.top = self.below.as_mut().and_then(|b| b.pop());
        top
    }

    /// The top.
    pub fn last(&self) -> Option<T> {
        self.top
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_keep_order() {
        let mut st = Stack::default();
        assert_eq!(st.pop(), None);
        st.push(1);
        st.push(2);
        st.push(3);
        assert_eq!(st.last(), Some(3));
        assert_eq!((st.pop(), st.pop(), st.last()), (Some(3), Some(2), Some(1)));
        assert_eq!((st.pop(), st.pop()), (Some(1), None));
    }
}
